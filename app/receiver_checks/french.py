"""The receiver check in French, for the dashboard's "Récepteur" panel: each case's title
and each hint of app.receiver_checks.battery (the API and the CLI speak English)."""

from __future__ import annotations

from app.receiver_checks import battery

TITLES = {
    "valid": "Événement correctement signé",
    "duplicate": "Doublon (même webhook-id)",
    "multiple_signatures": "Plusieurs signatures (rotation du secret)",
    "unknown_type": "Type d'événement inconnu",
    "extra_fields": "Champs inconnus à tous les niveaux",
    "non_ascii": "Caractères non ASCII (é, œ, …, émoji)",
    "out_of_order": "Événements dans le désordre",
    "bad_signature": "Signé avec un autre secret",
    "missing_signature": "Sans signature",
    "tampered_body": "Corps modifié après signature",
    "stale_timestamp": "Horodatage vieux de 10 minutes",
    "future_timestamp": "Horodatage 10 minutes dans le futur",
}

_CASE_HINTS = {
    "valid": "Votre récepteur a refusé un événement correctement signé : vérifiez "
    "`webhook-signature` sur le corps brut avec le secret du webhook (le base64 qui suit "
    "`whsec_`), contenu signé `{webhook-id}.{webhook-timestamp}.{corps}`, puis répondez 2xx.",
    "duplicate": "Un renvoi reprend le même `webhook-id` : répondez de nouveau 2xx "
    "(dédoublonnez sur `webhook-id`) au lieu de le refuser.",
    "multiple_signatures": "`webhook-signature` peut contenir plusieurs signatures `v1,` "
    "séparées par des espaces (rotation du secret) : acceptez la requête dès que l'une "
    "d'elles correspond.",
    "unknown_type": "Ignorez les types d'événements que vous ne connaissez pas et répondez "
    "2xx : de nouveaux types peuvent apparaître sans préavis.",
    "extra_fields": "Ignorez les membres JSON inconnus à tous les niveaux (pas de schéma "
    "strict en entrée) : des champs peuvent être ajoutés sans préavis.",
    "non_ascii": "Vérifiez les octets bruts tels que reçus, avant toute analyse : "
    "re-sérialiser le JSON (é échappé en \\u00e9, clés réordonnées, espaces) change le "
    "contenu signé.",
    "out_of_order": "Les événements peuvent arriver dans le désordre : acceptez-les tous "
    "les deux et ordonnez-les selon le `timestamp` du corps (gardez le statut le plus "
    "récent), pas selon leur ordre d'arrivée.",
    "bad_signature": "Votre récepteur a accepté un corps signé avec un autre secret : "
    "vérifiez `webhook-signature` avec le secret du webhook avant d'analyser le corps.",
    "missing_signature": "Votre récepteur a accepté une requête sans `webhook-signature` : "
    "répondez 4xx quand `webhook-id`, `webhook-timestamp` ou `webhook-signature` manque.",
    "tampered_body": "Votre récepteur a accepté un corps modifié après signature : calculez "
    "le HMAC sur le corps exact reçu et comparez-le en temps constant.",
    "stale_timestamp": "Votre récepteur a accepté un événement signé il y a 10 minutes : "
    "refusez un `webhook-timestamp` vieux de plus de 5 minutes (rejeu).",
    "future_timestamp": "Votre récepteur a accepté un événement daté de 10 minutes dans le "
    "futur : refusez un `webhook-timestamp` en avance de plus de 5 minutes.",
}

HINTS = {
    **{battery.HINTS[name]: text for name, text in _CASE_HINTS.items()},
    battery.HINT_SERVER_ERROR_ON_REJECT: "Répondez 4xx (400 ou 401) à une requête dont la "
    "vérification échoue, pas 5xx : un 5xx invite l'expéditeur à réessayer.",
    battery.HINT_REDIRECT: "Les redirections ne sont jamais suivies : enregistrez l'URL "
    "finale (schéma, hôte, chemin, barre oblique finale) comme URL du webhook.",
    battery.HINT_TIMEOUT: "Répondez dans le délai de l'expéditeur : accusez réception par "
    "un 2xx d'abord, traitez l'événement ensuite (file d'attente).",
    battery.HINT_CONNECTION: "Rien n'a répondu à cette URL : vérifiez que le récepteur y "
    "écoute (hôte, port, chemin).",
    battery.HINT_SLOW: "Répondez en moins de 2 s : accusez réception d'abord, faites le "
    "travail ensuite ; les réponses lentes finissent en dépassements de délai et en renvois.",
    battery.HINT_RUN_AGAIN: "Relancez la vérification : le sandbox a redémarré pendant "
    "qu'elle tournait.",
}


def hint(english: str | None) -> str | None:
    """The French of a hint the battery gives; None for none."""
    return None if english is None else HINTS.get(english, english)
