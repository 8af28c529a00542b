"""The French explanation of every error code the sandbox answers, for the dashboard.

The API speaks English to developers (`detail`, each issue's `message`); the dashboard
shows these sentences first and keeps the API's own words beside them. Each entry is a
whole sentence: nothing here is assembled from fragments.
"""

from __future__ import annotations

# One per code of app.errors.CATALOG (a test walks the catalogue and fails on a gap).
PROBLEMS: dict[str, str] = {
    "no_webhook": (
        "Aucun webhook pour cette clé : indiquez l'URL et le secret du récepteur, ou "
        "enregistrez-les d'abord (PUT /_sandbox/webhook)."
    ),
    "receiver_check_not_found": "Vérification du récepteur introuvable pour cette clé.",
    "receiver_check_running": (
        "Une vérification du récepteur est déjà en cours pour cette clé : attendez sa fin."
    ),
    "key_not_found": "Clé API inconnue du sandbox : vérifiez la clé choisie dans la liste.",
    "fixture_key": (
        "Cette clé API vient du fichier de fixtures : elle ne peut pas être révoquée "
        "depuis le sandbox."
    ),
    "host_not_allowed": (
        "En-tête Host refusé : ce nom ne désigne pas ce sandbox. Ajoutez-le à "
        "OMNIDOC_ALLOWED_HOSTS (par exemple le nom du service Docker Compose)."
    ),
    "admin_too_many_failures": (
        "Trop de jetons d'administration erronés depuis ce poste : réessayez après le délai "
        "indiqué par Retry-After."
    ),
    "internal_error": "Erreur interne du sandbox : signalez-la avec l'identifiant de la requête.",
    "invalid_json": "Le corps de la requête n'est pas un JSON valide (guillemets, virgules).",
    "invalid_multipart": (
        "Le corps multipart/form-data est illisible (séparateur, en-têtes d'une partie ou "
        "corps tronqué) : rien n'a été enregistré."
    ),
    "unauthorized": "Clé API absente ou inconnue : envoyez « Authorization: Bearer <clé> ».",
    "cross_origin_request": (
        "Requête refusée : les pages du sandbox n'acceptent que les formulaires envoyés "
        "depuis leur propre origine."
    ),
    "admin_unauthorized": (
        "Jeton d'administration requis : cette partie du sandbox n'est pas ouverte aux clés API."
    ),
    "not_found": "Aucune route ne correspond à cette adresse.",
    "draft_not_found": "Aucune demande avec cet identifiant n'appartient à cette clé API.",
    "file_not_found": "Ce fichier n'est pas joint à cette demande.",
    "delivery_not_found": "Aucune notification avec cet identifiant n'appartient à cette clé API.",
    "snapshot_invalid": (
        "Instantané refusé : le fichier est tronqué, a été modifié après son export ou vient "
        "d'une version plus récente du sandbox. Rien n'a été importé ; le détail indique "
        "ce qui ne va pas."
    ),
    "test_session_not_found": (
        "Aucune session de test avec cet identifiant n'appartient à cette clé API."
    ),
    "session_running": (
        "Une session de test est déjà en cours pour cette clé API : terminez-la avant d'en "
        "ouvrir une autre."
    ),
    "method_not_allowed": (
        "Cette adresse existe, mais pas avec cette méthode HTTP (l'en-tête Allow les liste)."
    ),
    "draft_locked": (
        "Demande verrouillée : les pièces jointes ne s'ajoutent qu'avant l'ouverture du lien "
        "de la demande (statut temporaire)."
    ),
    "draft_incomplete": (
        "Demande incomplète : la publication exige un médecin requérant et un médecin requis."
    ),
    "invalid_transition": "Le statut actuel de la demande ne permet pas cette action.",
    "report_not_ready": "Le compte rendu n'existe qu'une fois la téléexpertise terminée.",
    "body_timeout": (
        "Le corps de la requête a cessé d'arriver trop longtemps : rien n'a été enregistré "
        "et la connexion a été fermée."
    ),
    "body_too_large": "Le corps de la requête dépasse la taille maximale acceptée.",
    "file_too_large": "Un fichier dépasse la taille maximale acceptée : rien n'a été enregistré.",
    "unsupported_media_type": (
        "Type de contenu non pris en charge : envoyez le Content-Type attendu par cette route."
    ),
    "validation_failed": (
        "Un ou plusieurs champs enfreignent les règles : rien n'a été enregistré."
    ),
    "client_closed_request": (
        "Le client a fermé la connexion avant d'avoir envoyé toute la requête : rien n'a été fait."
    ),
    "injected_fault": (
        "Panne simulée : une règle de panne de cette clé API a répondu exprès, sans rien faire."
    ),
    "not_ready": "Le sandbox est encore en cours de démarrage : réessayez.",
    "storage_failed": (
        "Le sandbox n'a pas pu écrire le fichier sur son disque (plein ou protégé) : rien "
        "n'a été enregistré."
    ),
}

# Codes of a field's issue (or of the whole body) that are not problem codes.
ISSUES: dict[str, str] = {
    "unknown_field": "Ce champ n'existe pas dans l'API Omnidoc : il est ignoré.",
    "not_an_object": "Un objet JSON est attendu ici.",
    "missing": "Ce champ est obligatoire.",
    "too_deep": "Le JSON est imbriqué trop profondément.",
    "invalid_number": "Nombre trop grand pour être renvoyé tel qu'envoyé : envoyez-le en texte.",
    "json_invalid": "Le corps de la requête n'est pas un JSON valide.",
    "context_not_object": "Le contexte doit être un objet JSON.",
    "context_too_large": "Le contexte dépasse 16 Kio une fois compacté.",
    "unknown_cursor": "Ce curseur n'est plus dans le journal : repartez sans curseur.",
    "invalid_name": "Nom de boîte de réception invalide.",
    "too_many_parameters": "Trop de paramètres : seuls les premiers sont vérifiés.",
    "wrong_path": "Le lien doit pointer vers /interop/drafts/new.",
    "parameters_in_query": (
        "Des paramètres sont dans la chaîne de requête (après « ? ») : mettez-les après « # »."
    ),
    "query_string": "Le lien contient une chaîne de requête (après « ? ») : elle est inutile.",
    "not_a_file": "Une partie nommée « file » n'a pas de nom de fichier.",
    "missing_file": "Aucune partie nommée « file » : aucun fichier envoyé.",
    "empty_file": "Un fichier est vide : rien n'a été enregistré.",
    "too_many_files": "Trop de pièces jointes pour cette demande.",
}

# A constraint of the framework's (pydantic's) own vocabulary, with no sentence above.
OTHER = "Valeur refusée par les règles de l'API."

# Codes whose field-less issue is about the request's body, not the request as a whole.
BODY_CODES = frozenset(
    {
        "invalid_json",
        "json_invalid",
        "invalid_multipart",
        "body_timeout",
        "body_too_large",
        "file_too_large",
        "not_an_object",
        "too_deep",
        "invalid_number",
        "validation_failed",
        "unsupported_media_type",
        "client_closed_request",
    }
)


def problem_fr(code: str) -> str | None:
    """The French explanation of a problem or issue code, if the sandbox has one."""
    return PROBLEMS.get(code) or ISSUES.get(code)
