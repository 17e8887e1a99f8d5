"""Inter-annotator agreement: nominal measures, span and event measures, corpus aggregate.

Plain records (``models.records``) in, numpy columns for a corpus's spans: no ORM, no Qt.
Undefined scores are ``Measure(None, reason)``, never a crash or a made-up 1.0.
"""

from models.agreement.categorical import (
    CohenKappa,
    FleissKappa,
    KrippendorffAlpha,
    Measure,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
)
from models.agreement.corpus import AnnotatedDocument, CorpusAgreement, corpus_agreement
from models.agreement.spans import (
    F1Counts,
    exact_matches,
    iob_tags,
    overlap_matches,
    trigger_spans,
    trigger_type_pairs,
)

__all__ = [
    "AnnotatedDocument",
    "CohenKappa",
    "CorpusAgreement",
    "F1Counts",
    "FleissKappa",
    "KrippendorffAlpha",
    "Measure",
    "cohen_kappa",
    "corpus_agreement",
    "exact_matches",
    "fleiss_kappa",
    "iob_tags",
    "krippendorff_alpha",
    "overlap_matches",
    "trigger_spans",
    "trigger_type_pairs",
]
