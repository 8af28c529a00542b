"""French words of the test kit's report and page (light: no PDF library here)."""

from __future__ import annotations

RESULTS_FR = {
    "pass": "réussi",
    "fail": "échoué",
    "skip": "non demandé",
    "omit": "omis",
    "wait": "en attente",
}
# The same, counted (the PDF's summary).
COUNTS_FR = {
    "pass": "Réussis",
    "fail": "Échoués",
    "skip": "Non demandés",
    "omit": "Omis",
    "wait": "En attente",
}
STATUS_FR = {"running": "en cours", "passed": "réussie", "failed": "échouée"}
KINDS_FR = {"request": "requête", "delivery": "notification", "receiver_check": "vérification"}
SOURCES_FR = {"omnidoc": "document Omnidoc", "sandbox": "défini par le sandbox"}

# The judge's messages in French, for the page and the PDF (the API keeps the English).
# Whole sentences; the few that carry a number or an id are written in app.testkit.judge.
MESSAGES_FR: dict[str, str] = {
    "A create was answered 200 with an author_rpps of the directory.": (
        "Une création a reçu la réponse 200 avec un author_rpps de l'annuaire."
    ),
    "No create (POST /api/interop/v1/drafts) yet.": (
        "Aucune création (POST /api/interop/v1/drafts) pour l'instant."
    ),
    "Creates were answered 200, but none sent an author_rpps of the directory.": (
        "Des créations ont reçu la réponse 200, mais aucune n'a envoyé un author_rpps de "
        "l'annuaire."
    ),
    "No create was answered 200 yet.": "Aucune création n'a encore reçu la réponse 200.",
    "A create sent a context.": "Une création a envoyé un context.",
    "No create sent a context yet.": "Aucune création n'a encore envoyé de context.",
    "No create yet.": "Aucune création pour l'instant.",
    "The same body (equal as JSON) was sent again after its 422: correct the fields the 422 "
    "names instead of retrying it.": (
        "Le même corps (identique en JSON) a été renvoyé après son 422 : corrigez les champs "
        "que le 422 désigne au lieu de le renvoyer tel quel."
    ),
    "After a 422 on a create, a later create was answered 200.": (
        "Après un 422 sur une création, une création suivante a reçu la réponse 200."
    ),
    "A create got a 422; no later create was answered 200 yet.": (
        "Une création a reçu un 422 ; aucune création suivante n'a encore reçu la réponse 200."
    ),
    "No create was answered 422 yet: send one invalid create, then correct it.": (
        "Aucune création n'a encore reçu de 422 : envoyez une création invalide, puis corrigez-la."
    ),
    "A draft got a file before its redirect_url was visited.": (
        "Une demande a reçu un fichier avant la visite de son redirect_url."
    ),
    "A draft got a file; its redirect_url was not visited yet.": (
        "Une demande a reçu un fichier ; son redirect_url n'a pas encore été visité."
    ),
    "No file was attached to a draft of the session yet.": (
        "Aucun fichier n'a encore été joint à une demande de la session."
    ),
    "One upload carried two or more file parts.": (
        "Un envoi de fichiers comportait au moins deux parties file."
    ),
    "Every upload so far carried one file part: send several in one request.": (
        "Chaque envoi jusqu'ici ne comportait qu'une partie file : envoyez-en plusieurs dans "
        "une même requête."
    ),
    "No upload yet.": "Aucun envoi de fichiers pour l'instant.",
    "No draft created in the session was visited yet.": (
        "Aucune demande créée pendant la session n'a encore été visitée."
    ),
    "An upload was sent to a draft whose redirect_url had been visited (409 draft_locked): "
    "attach files before redirecting the user.": (
        "Un envoi de fichiers visait une demande dont le redirect_url avait déjà été visité "
        "(409 draft_locked) : joignez les fichiers avant de rediriger l'utilisateur."
    ),
    "A draft of the session was visited and no upload to a visited draft was refused.": (
        "Une demande de la session a été visitée et aucun envoi de fichiers vers une demande "
        "visitée n'a été refusé."
    ),
    "No draft of the session was visited yet.": (
        "Aucune demande de la session n'a encore été visitée."
    ),
    "A notification of the session was not attempted yet.": (
        "Une notification de la session n'a pas encore été envoyée."
    ),
    "No notification of a draft of the session yet (publish one).": (
        "Aucune notification d'une demande de la session pour l'instant (publiez-en une)."
    ),
    "A receiver check of the key passed.": "Une vérification du récepteur de la clé a réussi.",
    "No receiver check of the key passed yet.": (
        "Aucune vérification du récepteur de la clé n'a encore réussi."
    ),
    "No receiver check of the key yet (POST /_sandbox/receiver-checks).": (
        "Aucune vérification du récepteur de la clé pour l'instant "
        "(POST /_sandbox/receiver-checks)."
    ),
    "The report of a completed draft was downloaded.": (
        "Le compte rendu d'une demande terminée a été téléchargé."
    ),
    "No report was downloaded yet: fetch GET /api/interop/v1/drafts/{id}/report once a draft "
    "is completed.": (
        "Aucun compte rendu n'a encore été téléchargé : appelez "
        "GET /api/interop/v1/drafts/{id}/report une fois une demande terminée."
    ),
    "Not asked for: open the session with resilience.": (
        "Non demandé : ouvrez la session avec resilience."
    ),
    "The sandbox answers the key's next create 503 with Retry-After: 2; no create yet.": (
        "Le sandbox répond 503 avec Retry-After: 2 à la prochaine création de la clé ; aucune "
        "création pour l'instant."
    ),
    "The create got its 503 with Retry-After: 2; no create since.": (
        "La création a reçu son 503 avec Retry-After: 2 ; aucune création depuis."
    ),
}
