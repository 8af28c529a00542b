"""French words of the test kit's report and page (light: no PDF library here)."""

from __future__ import annotations

RESULTS_FR = {
    "pass": "réussi",
    "fail": "échoué",
    "skip": "non demandé",
    "omit": "omis",
    "wait": "en attente",
}
STATUS_FR = {"running": "en cours", "passed": "réussie", "failed": "échouée"}
KINDS_FR = {"request": "requête", "delivery": "notification", "receiver_check": "vérification"}
SOURCES_FR = {"omnidoc": "document Omnidoc", "sandbox": "défini par le sandbox"}
