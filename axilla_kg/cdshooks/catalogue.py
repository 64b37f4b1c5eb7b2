"""Order-catalogue text in a normal form: modality, region, laterality, contrast, purpose, action, tracer.

Order catalogues name studies in their own shorthand ("NM PET/CT SKULL BASE TO MID-THIGH", "US Axilla
Right", "MRI BREAST BILAT W/O & W CONTRAST", "MAMMO DIAG BILAT"). The normal form follows the RadLex
Playbook information model (modality, body part, contrast) plus what our ACR procedures also tell apart:
the purpose (screening / diagnostic), an intervention (core biopsy, FNA) and a PET tracer. The mapping
from normal forms to ACR procedures is data (the ``axcat:`` rows of ``ontology/order-codes.sssom.tsv``);
this module only reads the text.

The rules, in order (text is upper-cased, punctuation other than ``/ & + -`` becomes a space):

- **modality**: PET/CT (``PET/CT``, ``PET-CT``, ``PET CT``, ``PETCT``, ``PT/CT``), PET, PEM, MRI (``MRI``,
  ``MR``), CT, US (``US``, ``ULTRASOUND``, ``SONO``...), DBT (``DBT``, ``TOMO``, ``TOMOSYNTHESIS``, ``3D
  MAMMO``), MG (``MAMMO``, ``MAMMOGRAM``, ``MAMMOGRAPHY``, ``MG``), MBI (``MBI``, ``BSGI``, ``SESTAMIBI``), bone
  scan (``BONE SCAN``, ``BONE SCINTIGRAPHY``). ``NM`` (the department) says nothing by itself. DBT with MG
  text is DBT; PET with CT is PET/CT. Two modalities left after that mean the text names two studies.
- **region**: axilla (``AXILLA``, ``AXILLARY``, ``AXILLAE``), breast (``BREAST(S)``), skull base to mid-thigh
  (``SKULL BASE TO MID-THIGH``, ``SKULL-THIGH``, ``EYES TO THIGHS``...), whole body (``WHOLE BODY``, ``WB``,
  ``TOTAL BODY``, ``FULL BODY``), chest-abdomen-pelvis (``CHEST ABDOMEN PELVIS``, ``CHEST/ABD/PELVIS``,
  ``CAP``). A text may name several regions (``US BREAST AND AXILLA``): it then covers each.
- **laterality**: right / left / bilateral (``RT``, ``LT``, ``BILAT``, ``BIL``, ``BOTH``). Our ACR procedures
  are side-less, so the side is kept for display and never decides the procedure.
- **contrast** (only for MRI, CT and mammography): the "without" words (``W/O``, ``WO``,
  ``WITHOUT``, ``NON-CONTRAST``, ``NONCON``, each with a following ``CONTRAST``) are taken out, then the
  "with" words (``W/``, ``W``, ``WITH``, ``CONTRAST``, ``CE``) looked for in the rest: both = without and
  with (``W/O & W``, ``W WO``, ``WITH AND WITHOUT CONTRAST``; also ``WWO``, ``W/WO``), one = that one.
  The marks of CMS short descriptors are read too (``C-`` without, ``C+`` with, ``C-+`` both; ``W/CAD``
  is computer-aided detection, not contrast). PET named with CT is PET/CT ("PET IMAGE W/CT").
- **purpose**: screening (``SCREENING``, ``SCREEN``, ``SCR``), diagnostic (``DIAGNOSTIC``, ``DIAG``, ``DX``).
- **action**: core biopsy (``BIOPSY``, ``BX``, ``CORE``), FNA (``FNA``, ``FINE NEEDLE``, ``ASPIRATION``).
- **tracer**: FDG (``FDG``, ``F-18 FDG``, ``FLUORODEOXYGLUCOSE``) or another named PET tracer (``PSMA``, ``FES``,
  ``FLUCICLOVINE``, ``DOTATATE``, ``NAF``, ``CHOLINE``, ``GA-68``...), which is never an FDG study.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_MODALITY = [
    ("PET/CT", r"\b(?:PET|PT)\s*[/\-+]?\s*CT\b|\bPETCT\b"),
    ("PEM", r"\bPEM\b|\bPOSITRON EMISSION MAMMOGRAPHY\b"),
    ("MBI", r"\bMBI\b|\bBSGI\b|\bSESTAMIBI\b|\bMOLECULAR BREAST\b"),
    ("bone-scan", r"\bBONE\s+(?:SCAN|SCINTIGRAPHY|IMAGING)\b"),
    ("DBT", r"\bDBT\b|\bTOMO(?:SYNTHESIS)?\b|\b3D\s+MAMMO\w*"),
    ("PET", r"\bPET\b"),
    ("MRI", r"\bMRI?\b|\bMAGNETIC RESONANCE\b"),
    ("CT", r"\bCT\b|\bCOMPUTED TOMOGRAPHY\b|\bCAT SCAN\b"),
    ("US", r"\bUS\b|\bULTRASOUND\b|\bSONO\w*\b|\bULS\b|\bECHOGRAPHY\b"),
    ("MG", r"\bMAMMO\w*|\bMG\b"),
]
_REGION = [
    (
        "skull-base-to-mid-thigh",
        r"\bSKULL\s*BASE\s*(?:TO|-)?\s*MID\s*-?\s*THIGH\b|\bSKULL\s*(?:TO|-)\s*(?:MID\s*-?\s*)?THIGHS?\b"
        r"|\bEYES?\s*(?:TO|-)\s*THIGHS?\b|\bBASE\s+OF\s+SKULL\s+TO\s+MID\s*-?\s*THIGH\b",
    ),
    ("whole-body", r"\bWHOLE\s*-?\s*BODY\b|\bWB\b|\b(?:TOTAL|FULL)\s+BODY\b|\bVERTEX\s+TO\s+TOES?\b"),
    (
        "chest-abdomen-pelvis",
        r"\bCHEST\s*[/,&]?\s*(?:AND\s+)?ABD(?:OMEN)?\s*[/,&]?\s*(?:AND\s+)?PELVIS\b|\bCAP\b",
    ),
    ("axilla", r"\bAXILL(?:A|AE|ARY)\b"),
    ("breast", r"\bBREASTS?\b"),
]
#: Body parts none of our procedures images: a text naming one (and none of ours) is another study.
_OTHER_REGION = (
    r"\bHEAD\b|\bBRAIN\b|\bNECK\b|\bSPINE\b|\bCERVICAL\b|\bLUMBAR\b|\bTHORACIC\b|\bCHEST\b|\bABD(?:OMEN)?\b"
    r"|\bPELVIS\b|\bKNEE\b|\bHIP\b|\bSHOULDER\b|\bELBOW\b|\bWRIST\b|\bHAND\b|\bANKLE\b|\bFOOT\b|\bLIVER\b"
    r"|\bKIDNEYS?\b|\bRENAL\b|\bTHYROID\b|\bHEART\b|\bCARDIAC\b|\bLUNGS?\b|\bSINUS\w*|\bORBITS?\b|\bFACE\b"
    r"|\bEXTREMITY\b|\bLEG\b|\bARM\b|\bPROSTATE\b|\bUTERUS\b|\bOVAR\w*|\bSCROT\w*|\bCAROTID\w*|\bVENOUS\b"
)
#: Modalities that only ever image the breast: their text needs no region word.
_BREAST_ONLY = frozenset({"MG", "DBT", "MBI", "PEM"})
_LATERALITY = [
    ("bilateral", r"\bBILAT(?:ERAL)?\b|\bBIL\b|\bBOTH\b|\bBL\b|\bBI\b"),
    ("right", r"\bRIGHT\b|\bRT\b|\bR\b"),
    ("left", r"\bLEFT\b|\bLT\b|\bL\b"),
]
#: Contrast, read in two steps: the "without" forms (with a trailing CONTRAST word) are found and taken out,
#: then the "with" forms in what is left; both found = without and with ("W/O & W", "W WO", "WITH AND
#: WITHOUT CONTRAST"), one = that one. "WWO" is the one-word shorthand for without and with.
_WITHOUT = re.compile(
    r"\bW\s*/\s*O\b(?:\s+(?:IV\s+)?CONTRAST)?|\bWO\b(?:\s+(?:IV\s+)?CONTRAST)?"
    r"|\bWITHOUT\b(?:\s+(?:IV\s+)?CONTRAST)?|\bNON\s*-?\s*CONTRAST\b|\bNONCON\b|\bNO\s+CONTRAST\b"
)
_WITH = re.compile(r"\bW\s*/|\bW\b|\bWITH\b|\bCONTRAST\b|\bCE\b|\bIV\s+CON\w*")
_BOTH = re.compile(r"\bWWO\b|\bW/WO\b|\bWO/W\b|\bC\s*-\s*\+|\bC\s*\+\s*-")
#: CMS short-descriptor contrast marks ("MRI BREAST C-+ W/CAD BI"): C- without, C+ with; W/CAD is not contrast.
_CMS_WITHOUT = re.compile(r"\bC\s*-(?!\s*\+)")
_CMS_WITH = re.compile(r"\bC\s*\+(?!\s*-)")
_NOT_CONTRAST = re.compile(r"\bW\s*/?\s*CAD\b")
_PURPOSE = [
    ("screening", r"\bSCREEN(?:ING)?\b|\bSCR\b"),
    ("diagnostic", r"\bDIAG(?:NOSTIC)?\b|\bDX\b"),
]
_ACTION = [
    ("fna", r"\bFNA\b|\bFINE\s*-?\s*NEEDLE\b|\bASPIRAT\w*"),
    ("core-biopsy", r"\bBIOPSY\b|\bBX\b|\bCORE\b"),
]
_TRACER = [
    ("FDG", r"\bFDG\b|\bFLUORODEOXYGLUCOSE\b"),
    (
        "other",
        r"\bPSMA\b|\bFES\b|\bFLUOROESTRADIOL\b|\bFLUCICLOVINE\b|\bAXUMIN\b|\bDOTATATE\b|\bDOTATOC\b|\bNAF\b"
        r"|\bSODIUM FLUORIDE\b|\bCHOLINE\b|\bGA\s*-?\s*68\b|\bCU\s*-?\s*64\b|\bAMYLOID\b|\bFLORBETA\w*",
    ),
]
OTHER_REGION = "other"
_CLEAN = re.compile(r"[^A-Z0-9/&+\-\s]")
#: Longest input read: catalogue names are short; a longer text is not a catalogue name.
MAX_TEXT = 200


@dataclass(frozen=True)
class OrderText:
    """The normal form of one catalogue text."""

    modalities: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    laterality: str | None = None
    contrast: str | None = None
    purpose: str | None = None
    action: str | None = None
    tracer: str | None = None
    features: dict[str, str] = field(default_factory=dict)

    @property
    def several_studies(self) -> bool:
        """Two modalities (after PET+CT and MG+DBT are folded): the text names two studies."""
        return len(self.modalities) > 1

    @property
    def names_a_study(self) -> bool:
        """A region with a modality or an intervention: what a catalogue entry names. A modality alone
        ("MRI", "PET/CT") names no study (MRI of what?): such a text says nothing either way."""
        return bool(self.regions) and (bool(self.modalities) or self.action is not None)

    def describe(self) -> str:
        parts = [
            "+".join(self.modalities) or "-",
            "+".join(self.regions) or "-",
            *(v for v in (self.laterality, self.contrast, self.purpose, self.action, self.tracer) if v),
        ]
        return " ".join(parts)


def _all(rules: list[tuple[str, str]], text: str) -> list[str]:
    return [name for name, pattern in rules if re.search(pattern, text)]


def _first(rules: list[tuple[str, str]], text: str) -> str | None:
    found = _all(rules, text)
    return found[0] if found else None


def _contrast(upper: str) -> str | None:
    upper = _NOT_CONTRAST.sub(" ", upper)
    if _BOTH.search(upper):
        return "without-and-with"
    without = bool(_WITHOUT.search(upper) or _CMS_WITHOUT.search(upper))
    with_ = bool(_WITH.search(_WITHOUT.sub(" ", upper)) or _CMS_WITH.search(upper))
    if without and with_:
        return "without-and-with"
    return "without" if without else ("with" if with_ else None)


def normalise(text: str) -> OrderText:
    """The normal form of a catalogue text (an empty form when it names no study we can read)."""
    if len(text) > MAX_TEXT:
        return OrderText()
    upper = " " + _CLEAN.sub(" ", text.upper()) + " "
    modalities = _all(_MODALITY, upper)
    if "PET" in modalities and "CT" in modalities:  # "PET IMAGE W/CT": PET with CT is PET/CT
        modalities = ["PET/CT", *(m for m in modalities if m not in ("PET", "CT", "PET/CT"))]
    if "PET/CT" in modalities:
        modalities = [m for m in modalities if m not in ("PET", "CT")]
    if "DBT" in modalities:
        modalities = [m for m in modalities if m != "MG"]
    if "PEM" in modalities:
        modalities = [m for m in modalities if m not in ("PET", "MG")]
    if "MBI" in modalities:
        modalities = [m for m in modalities if m != "MG"]
    regions = _all(_REGION, upper)
    if "bone-scan" in modalities and not regions:
        regions = ["whole-body"]
    if not regions and modalities and set(modalities) <= _BREAST_ONLY:
        regions = ["breast"]
    if not regions and re.search(_OTHER_REGION, upper):
        regions = [OTHER_REGION]
    action = _first(_ACTION, upper)
    if action is not None:
        # "US-guided core biopsy": the US is the guidance, not a second study
        modalities = modalities[:1]
    # "W" alone is only a contrast word next to a modality that takes contrast
    # (not for PET/CT: its "W 18F-FDG IV" is the tracer, and our PET/CT studies do not differ by contrast)
    contrast = _contrast(upper) if set(modalities) & {"MRI", "CT", "MG"} else None
    out = OrderText(
        modalities=tuple(modalities),
        regions=tuple(regions),
        laterality=_first(_LATERALITY, upper),
        contrast=contrast,
        purpose=_first(_PURPOSE, upper),
        action=action,
        tracer=_first(_TRACER, upper),
    )
    features = {"modality": modalities[0]} if len(modalities) == 1 else {}
    for key in ("contrast", "purpose", "action", "tracer"):
        value = getattr(out, key)
        if value is not None:
            features[key] = value
    return OrderText(**{**out.__dict__, "features": features})


#: Features a catalogue row may leave open while the text states them (they never change the study).
IGNORED = frozenset({"laterality"})
#: Features the text may leave out although the row states them: the order then covers each such row
#: (MRI breast with no contrast named covers both MRI breast studies; a PET/CT text with no tracer is read
#: as FDG, the tracer of the rows, and says so).
OPEN_IN_TEXT = frozenset({"contrast", "purpose", "tracer"})


def matches(row: dict[str, str], order: OrderText, region: str) -> bool:
    """Whether a catalogue row's normal form (``modality``, ``region`` ... as parsed from its
    ``subject_label``) fits the order's text for one of the regions it names."""
    if row.get("region") != region:
        return False
    if "modality" in row and order.features.get("modality") != row["modality"]:
        return False
    if "modality" not in row and order.action is None:
        return False
    for key in ("contrast", "purpose", "action", "tracer"):
        stated = order.features.get(key)
        wanted = row.get(key)
        if wanted is None and stated is not None and key in ("contrast", "action", "tracer"):
            return False  # the text asks for something the row's study is not
        if wanted is not None and stated is not None and stated != wanted:
            return False
        if wanted is not None and stated is None and key not in OPEN_IN_TEXT:
            return False
    return True
