"""The onboarding rules of the Surat Edaran, written once: the stages an OPD passes through and
the subsets that pages, queries, reports and exports show ("QR dicetak", "belum mencetak QR",
"sepi", "perlu perhatian", and the anomaly "check-in tanpa QR tercetak").

No Streamlit and no database here: `classify` turns the per-OPD facts of a period (registry,
activity, latest visit) into stage columns, and the predicates read those columns. The
README's "Glosarium ukuran" states the same definitions; tests/test_domain.py checks
each line against a fixed data set.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from .photos import QR_MATCH, QR_OTHER_OPD, QR_PROBLEMS, QR_UNKNOWN, QR_UNREADABLE, result_label

# The onboarding funnel, in order. Each stage includes the ones before it: an OPD counts as
# "QR dicetak" or further only when its QR has a printing date on or before the period's end.
STAGES = ("belum_terdaftar", "terdaftar", "qr_dicetak", "aktif", "terverifikasi")
STAGE_LABELS = {
    "belum_terdaftar": "Belum terdaftar",
    "terdaftar": "Terdaftar (QR belum dicetak)",
    "qr_dicetak": "QR dicetak",
    "aktif": "Aktif",
    "terverifikasi": "Terverifikasi",
}
NOT_PRINTED_STAGES = STAGES[:2]
PRINTED_STAGES = STAGES[2:]
# "Terverifikasi" whose latest visit also brought a photo whose QR reads the OPD's own venue
# code: the same stage, named after its stronger evidence.
PHOTO_VERIFIED_LABEL = "Terverifikasi (foto)"
# The photo results of a visit, best first: one photo that reads the OPD's own code is enough.
PHOTO_RESULT_ORDER = (QR_MATCH, QR_OTHER_OPD, QR_UNKNOWN, QR_UNREADABLE)

# "Aktif 7 hari terakhir": the window itself (stretched over long holidays) is
# calendar.active_window_start; this is its length in an ordinary week, for labels.
ACTIVE_WINDOW_DAYS = 7

# "Target cakupan ASN": the share of an OPD's ASN who check in on an average working day.
COVERAGE_TARGET = 0.8

# The refusal-rate ranking leaves out offices with fewer check-ins than this in the period.
REFUSAL_MIN_VOLUME = 200

# Evidence that an OPD's QR code is in use while the registry has no printing date for it by
# the end of the period. The OPD is not counted as printed; it is listed with this reason.
CHECKIN_WITHOUT_QR = "check-in tanpa QR tercetak"
POSTED_WITHOUT_QR = "QR terpasang tanpa tanggal cetak"


def _on_or_before(days: pd.Series, end: date) -> np.ndarray:
    """Dates (date objects, None or NaT) on or before `end`; a missing date is never."""
    return (pd.to_datetime(pd.Series(days, dtype=object)) <= pd.Timestamp(end)).to_numpy(dtype=bool)


def stage_codes(*, registered, printed, active, verified) -> np.ndarray:
    """Index into STAGES of each OPD (arrays of booleans of one shape, e.g. weeks × OPDs):

    - belum_terdaftar: no venue code registered by the end of the period;
    - terdaftar: a venue code, but no QR printed by then;
    - qr_dicetak: the QR has a printing date on or before the end of the period;
    - aktif: printed, and at least one check-in in the active window at the end of the period;
    - terverifikasi: printed, and the latest monitoring visit found the QR posted.

    Check-ins or a posted QR without a printing date do not move an OPD past "terdaftar":
    `classify` marks them as an anomaly instead."""
    registered, printed, active, verified = (np.asarray(x, dtype=bool) for x in (registered, printed, active, verified))
    return np.select([printed & verified, printed & active, printed, registered], [4, 3, 2, 1], default=0)


def classify(df: pd.DataFrame, *, end: date) -> pd.DataFrame:
    """Add the stage columns to per-OPD facts as of `end` (opd_overview's frame).

    Reads venue_code, venue_registered_on, qr_printed_on, checkins_7d (check-ins in the active
    window at `end`), last_day (last check-in on or before `end`, missing when none) and
    qr_posted (the latest visit on or before `end`, missing when none) and, when present,
    photo_result (the best QR result of that visit's photos, PHOTO_RESULT_ORDER; missing when
    it has none). Adds:

    - registered: a venue code registered on or before `end` (no registration date counts as
      registered);
    - qr_printed: a QR printing date on or before `end` ("QR dicetak");
    - active: a check-in in the active window ("Aktif 7 hari terakhir");
    - verified: the latest visit found the QR posted;
    - photo_verified: verified, and a photo of that visit reads the OPD's own venue code
      (stage "terverifikasi" is then labelled PHOTO_VERIFIED_LABEL);
    - photo_problem: the latest visit's photos read no code of this OPD: another OPD's code,
      a code that is no registered venue, or no readable QR at all;
    - stage: one of STAGES (see `stage_codes`);
    - anomaly: None, or why an OPD without a printing date looks as if it had a QR:
      CHECKIN_WITHOUT_QR (check-ins on or before `end`), else POSTED_WITHOUT_QR (the latest
      visit found a QR posted).
    """
    has_code = np.array([isinstance(c, str) and c != "" for c in df["venue_code"]], dtype=bool)
    reg_on = pd.to_datetime(pd.Series(df["venue_registered_on"], dtype=object))
    registered = has_code & (reg_on.isna() | (reg_on <= pd.Timestamp(end))).to_numpy(dtype=bool)
    printed = _on_or_before(df["qr_printed_on"], end)
    active = df["checkins_7d"].fillna(0).to_numpy() > 0
    verified = df["qr_posted"].isin([True, 1]).to_numpy(dtype=bool)
    photo = df["photo_result"] if "photo_result" in df else pd.Series(None, index=df.index, dtype=object)
    codes = stage_codes(registered=registered, printed=printed, active=active, verified=verified)
    checked_in = df["last_day"].notna().to_numpy(dtype=bool)
    reason = np.where(~printed & checked_in, CHECKIN_WITHOUT_QR, np.where(~printed & verified, POSTED_WITHOUT_QR, ""))
    stages = {
        "registered": registered, "qr_printed": printed, "active": active, "verified": verified,
        "photo_verified": verified & (photo == QR_MATCH).to_numpy(dtype=bool),
        "photo_problem": photo.isin(QR_PROBLEMS).to_numpy(dtype=bool),
        "stage": np.array(STAGES, dtype=object)[codes],
        "anomaly": pd.Series(reason, index=df.index, dtype=object).replace("", None),
    }
    if any(c in df for c in stages) or not df.index.is_unique:  # (classified before: replaced where they stand)
        out = df.copy()
        for c, v in stages.items():
            out[c] = v
        return out
    # added in one step: a column at a time cost a millisecond each
    return pd.concat([df, pd.DataFrame(stages, index=df.index)], axis=1)


# ---------------------------------------------------------------- subsets of a classified frame
def qr_printed(df: pd.DataFrame) -> pd.Series:
    """"QR dicetak": the QR code has a printing date on or before the end of the period.
    Check-ins alone do not make an OPD printed (see `anomaly`)."""
    return df["qr_printed"].astype(bool)


def no_qr(df: pd.DataFrame) -> pd.Series:
    """"Belum mencetak QR Code": no printing date by the end of the period (stages belum_terdaftar
    and terdaftar), including the OPDs with the anomaly."""
    return ~qr_printed(df)


def active(df: pd.DataFrame) -> pd.Series:
    """"Aktif 7 hari terakhir": at least one check-in in the active window at the end of the
    period (whether or not the QR has a printing date)."""
    return df["active"].astype(bool)


def quiet(df: pd.DataFrame) -> pd.Series:
    """"Sepi": the QR is printed but there was no check-in in the active window, whatever the
    stage (a monitoring visit that found the QR posted does not make an OPD busy)."""
    return qr_printed(df) & ~active(df)


def anomaly(df: pd.DataFrame) -> pd.Series:
    """OPDs that show a QR in use (check-ins, or a visit that found it posted) without a
    printing date: counted as not printed, listed with the reason in `anomaly`."""
    return df["anomaly"].notna()


def photo_problem(df: pd.DataFrame) -> pd.Series:
    """"Foto QR bermasalah": the photos of the latest visit read no code of this OPD (another
    OPD's code, a code that is no registered venue, or no readable QR)."""
    if "photo_problem" not in df:
        return pd.Series(False, index=df.index)
    return df["photo_problem"].astype(bool)


def needs_attention(df: pd.DataFrame) -> pd.Series:
    """"Perlu perhatian": no printed QR (the anomaly included), printed but quiet, or the
    latest visit's photo of the QR shows a problem."""
    return no_qr(df) | quiet(df) | photo_problem(df)


def longest_quiet_first(df: pd.DataFrame) -> pd.DataFrame:
    """OPDs (the quiet ones) in the order to look at them: never a check-in first, then the
    longest silence; among equals the larger office (more ASN) first."""
    order = df.assign(_last=pd.to_datetime(df["last_day"]))
    order = order.sort_values(["_last", "asn_headcount", "short_name"], ascending=[True, False, True],
                              na_position="first", kind="stable")
    return order.drop(columns="_last")


def largest_first(df: pd.DataFrame) -> pd.DataFrame:
    """OPDs with the larger office (more ASN) first, then by name."""
    return df.sort_values(["asn_headcount", "short_name"], ascending=[False, True], kind="stable")


def photo_label(df: pd.DataFrame) -> pd.Series:
    """The latest visit's photo finding in words ("Sesuai", "Kode OPD lain: Dinas Sosial",
    ...); missing when that visit has no photo."""
    if "photo_result" not in df:
        return pd.Series(None, index=df.index, dtype=object)
    other = df["photo_other_opd"] if "photo_other_opd" in df else pd.Series(None, index=df.index, dtype=object)
    return pd.Series([result_label(r, o if isinstance(o, str) else None) if isinstance(r, str) else None
                      for r, o in zip(df["photo_result"], other)], index=df.index, dtype=object)


def stage_label(df: pd.DataFrame) -> pd.Series:
    """The stage in words for tables, charts and reports; "Terverifikasi (foto)" when a photo
    of the latest visit reads the OPD's own code; an anomaly is named after it
    ("Terdaftar (QR belum dicetak) · check-in tanpa QR tercetak")."""
    label = df["stage"].map(STAGE_LABELS)
    if "photo_verified" in df:
        label = label.where(~((df["stage"] == "terverifikasi") & df["photo_verified"].astype(bool)),
                            PHOTO_VERIFIED_LABEL)
    if "anomaly" not in df:
        return label
    return label.where(df["anomaly"].isna(), label + " · " + df["anomaly"].fillna(""))


# ---------------------------------------------------------------- behind the target (map, weekly brief)
def behind(df: pd.DataFrame) -> pd.Series:
    """"Tertinggal": no printed QR by the end of the period, or Cakupan ASN below
    COVERAGE_TARGET. A period without working days has no coverage: the QR alone decides."""
    cov = pd.to_numeric(df["coverage"], errors="coerce")
    return no_qr(df) | (cov.notna() & (cov < COVERAGE_TARGET))


def behind_reasons(df: pd.DataFrame) -> pd.Series:
    """Why each OPD is behind, in words ("QR belum dicetak; cakupan ASN 12,5% (target 80%)");
    empty for an OPD that is not."""
    from .fmt import fmt_pct

    out = []
    for r in df.itertuples():
        why = []
        if r.stage == "belum_terdaftar":
            why.append("belum terdaftar di PeduliLindungi")
        elif r.stage == "terdaftar":
            why.append("QR belum dicetak" + (f" ({r.anomaly})" if isinstance(r.anomaly, str) else ""))
        elif not r.active:
            why.append(f"sepi: tanpa check-in {ACTIVE_WINDOW_DAYS} hari terakhir")
        cov = r.coverage
        if cov is not None and not pd.isna(cov) and cov < COVERAGE_TARGET:
            why.append(f"cakupan ASN {fmt_pct(cov)} (target {fmt_pct(COVERAGE_TARGET, 0)})")
        out.append("; ".join(why))
    return pd.Series(out, index=df.index, dtype=object)


def furthest_behind(df: pd.DataFrame, n: int | None = None) -> pd.DataFrame:
    """The OPDs behind the target, furthest first: by stage (not registered, no QR, printed but
    quiet, ...), then lowest coverage, then fewest check-ins."""
    rows = df[behind(df)].copy()
    rows["_stage"] = rows["stage"].map({s: i for i, s in enumerate(STAGES)})
    rows["_cov"] = pd.to_numeric(rows["coverage"], errors="coerce").fillna(-1.0)
    rows = rows.sort_values(["_stage", "_cov", "checkins", "short_name"], kind="stable")
    rows = rows.drop(columns=["_stage", "_cov"])
    return rows if n is None else rows.head(n)
