"""The pages' French wording: statuses, field labels, and each rule's message in French.

The rules themselves live in app/drafts/validation.py and speak English to developers (API,
`check-url`); the pages show the same verdicts in the product's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app import identifiers as ids
from app.drafts.validation import DIGIT_FIELDS, TEXT_MAX_CHARS
from app.errors import FieldIssue
from app.pages import errors_fr
from app.pages import url_method as prefill

STATUS_LABELS = {
    "temporary": "Temporaire",
    "draft": "Brouillon",
    "in_progress": "En cours",
    "completed": "Terminée",
    "cancelled": "Annulée",
}

VERDICT_LABELS = {
    "ok": "Reconnu",
    "warning": "Avertissement",
    "error": "Invalide",
    "unknown": "Inconnu",
}


@dataclass(frozen=True)
class FieldSpec:
    """How a form shows one parameter of the URL method."""

    name: str
    label: str
    hint: str = ""
    kind: str = "text"  # text, textarea, gender, recipient, email, tel
    inputmode: str = ""
    autocomplete: str = "off"


# The form's sections, in the order a practitioner fills them; names are the URL's.
SECTIONS: tuple[tuple[str, tuple[FieldSpec, ...]], ...] = (
    (
        "Patient",
        (
            FieldSpec("patient_first_name", "Prénom"),
            FieldSpec("patient_last_name", "Nom"),
            FieldSpec("patient_birth_name", "Nom de naissance"),
            FieldSpec("patient_gender", "Sexe", kind="gender"),
            FieldSpec("patient_birth_date", "Date de naissance", "AAAA-MM-JJ", inputmode="numeric"),
            FieldSpec("patient_birth_place", "Lieu de naissance", "Code INSEE, ex. 59158"),
            FieldSpec("patient_birth_order", "Rang de naissance", "1 à 9", inputmode="numeric"),
        ),
    ),
    (
        "Assurance maladie",
        (
            FieldSpec("patient_nir", "NIR de l'assuré", "15 caractères", inputmode="numeric"),
            FieldSpec("patient_nir_cert", "NIR du patient", "15 caractères", inputmode="numeric"),
            FieldSpec("patient_regime", "Régime", "2 chiffres", inputmode="numeric"),
            FieldSpec("patient_caisse", "Caisse", "3 chiffres", inputmode="numeric"),
            FieldSpec("patient_centre", "Centre", "4 chiffres", inputmode="numeric"),
            FieldSpec("patient_gestion", "Gestion", "2 chiffres", inputmode="numeric"),
        ),
    ),
    (
        "Coordonnées",
        (
            FieldSpec("patient_address", "Adresse", kind="textarea"),
            FieldSpec("patient_phone", "Téléphone", "10 chiffres, ex. 0612345678", kind="tel"),
            FieldSpec("patient_email", "E-mail", kind="email"),
        ),
    ),
    (
        "Demande",
        (
            FieldSpec("recipient_rpps", "Médecin requis", "Praticien de l'annuaire", "recipient"),
            FieldSpec("text", "Question posée à l'expert", kind="textarea"),
        ),
    ),
)
FIELD_LABELS = {spec.name: spec.label for _, specs in SECTIONS for spec in specs}

_FIXED: dict[str, str] = {
    "not_a_string": "Doit être du texte.",
    "invalid_character": "Contient un caractère interdit (NUL).",
    "nir_lowercase_corsica": "Les positions 6–7 doivent être 2A ou 2B en majuscules.",
    "nir_sex_digit": "Le premier chiffre devrait être 1, 2, 3, 4, 7 ou 8.",
    "nir_month": "Le mois (positions 4–5) devrait être entre 01 et 12, 20 et 42 ou 50 et 99.",
    "gender_invalid": "Doit être M ou F.",
    "birth_date_format": "Doit être une date réelle au format AAAA-MM-JJ.",
    "birth_date_future": "La date de naissance est dans le futur.",
    "insee_format": "Doit être un code INSEE : 5 chiffres, ou 2A/2B suivi de 3 chiffres.",
    "birth_order_string": "Devrait être un nombre, pas du texte.",
    "birth_order_invalid": "Doit être un chiffre de 1 à 9.",
    "phone_format": "Doit comporter 10 chiffres commençant par 0, sans espace ni point.",
    "phone_not_valid": "Ce numéro n'existe pas en France (outre-mer compris).",
    "email_invalid": "Adresse e-mail invalide.",
    "rpps_format": "Le RPPS comporte 11 chiffres (sans le 8 initial).",
    "rpps_luhn": "La clé de contrôle (11e chiffre) du RPPS est fausse.",
    "unknown_author_rpps": "Ce praticien n'est pas dans l'annuaire du sandbox.",
    "unknown_recipient_rpps": "Ce praticien n'est pas dans l'annuaire du sandbox.",
    "repeated_parameter": "Paramètre répété : seule la première valeur est utilisée.",
    "empty_parameter": "Paramètre vide : il est ignoré.",
    "percent_encoding": "Encodage invalide : le texte doit être encodé en UTF-8 (é = %C3%A9).",
    "recipient_missing": "Choisissez le médecin requis avant de publier.",
    "report_missing": "Rédigez l'avis avant de l'envoyer.",
}
_DID_YOU_MEAN = re.compile(r"[Dd]id you mean ([\w.]+)\?")

# Whole sentences, one per coherence code of the rules (never "à" + an article glued on).
_MISMATCH: dict[str, str] = {
    "nir_gender_mismatch": "Le NIR de l'assuré ne correspond pas au sexe du patient "
    "(normal si l'assuré est un parent).",
    "nir_birth_date_mismatch": "Le NIR de l'assuré ne correspond pas à la date de naissance "
    "du patient (normal si l'assuré est un parent).",
    "nir_birth_place_mismatch": "Le NIR de l'assuré ne correspond pas au lieu de naissance "
    "du patient (normal si l'assuré est un parent).",
    "nir_cert_gender_mismatch": "Le NIR du patient ne correspond pas à son sexe.",
    "nir_cert_birth_date_mismatch": "Le NIR du patient ne correspond pas à sa date de naissance.",
    "nir_cert_birth_place_mismatch": "Le NIR du patient ne correspond pas à son lieu de naissance.",
}


def _nir_message(issue: FieldIssue, value: str) -> str:
    if issue.code == "nir_checksum" and len(value) >= 13:
        try:
            key = ids.nir_key(value[:13])
        except ValueError:
            return "La clé du NIR (positions 14–15) est fausse."
        return f"La clé du NIR (positions 14–15) est fausse : {key:02d} attendu."
    got = f", {len(value)} reçus" if value and len(value) != ids.NIR_LENGTH else ""
    return f"15 caractères attendus sans espace (13 chiffres puis la clé){got}."


def issue_message(issue: FieldIssue, value: str = "") -> str:
    """The French sentence for one issue of a field whose value is `value`."""
    name = issue.field.replace(".", "_")
    bare = name.removeprefix("patient_")
    if issue.code in _FIXED:
        return _FIXED[issue.code]
    if issue.code in ("nir_format", "nir_checksum"):
        return _nir_message(issue, value)
    if issue.code == "too_long":
        limit = TEXT_MAX_CHARS.get(bare) or TEXT_MAX_CHARS.get(name, 0)
        return f"Trop long : {limit} caractères au plus."
    if issue.code == "digits_format":
        return f"Doit comporter exactement {DIGIT_FIELDS.get(bare, 0)} chiffres."
    if issue.code in _MISMATCH:
        return _MISMATCH[issue.code]
    if issue.code.endswith("_mismatch"):
        return "Le NIR ne correspond pas aux autres données du patient."
    if issue.code == "unknown_parameter":
        if issue.field == "author_rpps":
            return "Paramètre inconnu : l'auteur est le praticien connecté, pas un paramètre."
        close = prefill.suggestion(issue.field)
        return "Paramètre inconnu de la méthode URL." + (
            f" Vouliez-vous dire {close} ?" if close else ""
        )
    if issue.code == "unknown_field" and (hint := _DID_YOU_MEAN.search(issue.message)):
        return f"{errors_fr.ISSUES['unknown_field']} Vouliez-vous dire {hint[1]} ?"
    return errors_fr.problem_fr(issue.code) or errors_fr.OTHER


def catalogue() -> list[str]:
    """Every fixed French sentence the pages and the dashboard may show (for the tests)."""
    return [
        *_FIXED.values(),
        *_MISMATCH.values(),
        *errors_fr.PROBLEMS.values(),
        *errors_fr.ISSUES.values(),
        errors_fr.OTHER,
    ]
