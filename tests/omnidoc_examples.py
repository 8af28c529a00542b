"""The Omnidoc document's URL-method examples, exactly as printed (wrong values included).

"Informations partielles" and "Toutes les informations": a 14-digit NIR (and nir_cert),
a 9-digit phone, a raw `é` in `text` and literal `\\n` line breaks in `patient_address`.
"""

from __future__ import annotations

PARTIAL_EXAMPLE = (
    "https://app.omnidoc.fr/interop/drafts/new#patient_first_name=Pierre&patient_last_name="
    "Dupont&patient_nir=11111111111111&patient_gender=M&patient_birth_date=1994-09-10"
    "&patient_birth_order=1&patient_regime=01&recipient_rpps=10002170750"
)
FULL_EXAMPLE = (
    "https://app.omnidoc.fr/interop/drafts/new#patient_first_name=Pierre&patient_last_name="
    "Dupont&patient_birth_name=Pasteur&patient_nir=11111111111111&patient_nir_cert="
    "12222222222222&patient_gender=M&patient_birth_date=1994-09-10&patient_birth_order=1"
    "&patient_regime=01&patient_centre=1111&patient_caisse=111&patient_gestion=10"
    r"&patient_address=APPARTEMENT%201%20BATIMENT%20GRAVIER\nRESIDENCE%20DES%20DUCHMOLLES"
    r"\nCHEMIN%20DES%20CATAPULTES%20ROUILLEES\nPLUCVAILLON\n72546%20REFERINUM%20SUR%20SARTHE"
    "&text=Le%20patient%20présente%20des%20signes%20de&patient_phone=066666666"
    "&patient_birth_place=59158&recipient_rpps=10002170750&patient_email=louis.dupont@gmail.com"
)
FULL_ADDRESS = (
    "APPARTEMENT 1 BATIMENT GRAVIER\nRESIDENCE DES DUCHMOLLES\n"
    "CHEMIN DES CATAPULTES ROUILLEES\nPLUCVAILLON\n72546 REFERINUM SUR SARTHE"
)


def fragment(url: str) -> str:
    """What follows `#`."""
    return url.partition("#")[2]
