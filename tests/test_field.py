"""Issue 16, data layer: photo evidence (cleaned, scaled, QR read and compared), visits whose
yes/no answers must be given, display names, and sessions that a reload resumes and the
server ends."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import select, update

from data_access import auth, photos, sessions
from data_access.calendar import now_utc
from data_access.models import Opd, VisitPhoto
from data_access.visits import VisitError, VisitInput, add_photos, add_visit, visit_photos
from tests.photo_fixtures import blank_photo, poster_photo

SATPOL = auth.Actor("satpolpp", "satpolpp")


def venue(engine, code: str) -> str:
    with engine.connect() as conn:
        return conn.execute(select(Opd.venue_code).where(Opd.code == code)).scalar_one()


def visit(**kw) -> VisitInput:
    base = dict(opd_code="DINKES", visited_on=date(2022, 3, 1), officer="Budi Santoso", qr_posted=True,
                scanning_enforced=True, unscanned_entries=0, notes="")
    return VisitInput(**{**base, **kw})


# ---------------------------------------------------------------- photos, no database
def test_photo_is_stripped_scaled_and_read():
    big = poster_photo("BKL011-DINKES", "Dinas Kesehatan", width=2400)
    assert Image.open(io.BytesIO(big)).getexif()  # the camera wrote EXIF with a GPS position
    clean = photos.clean_photo(big, "pintu.jpg")
    assert clean.qr_texts == ("BKL011-DINKES",)
    img = Image.open(io.BytesIO(clean.image))
    assert max(img.size) == photos.MAX_SIDE and img.format == "JPEG"
    assert not img.getexif() and "exif" not in img.info and "icc_profile" not in img.info
    assert b"KameraPonsel" not in clean.image and b"Model Rahasia" not in clean.image
    assert max(Image.open(io.BytesIO(clean.thumb)).size) <= photos.THUMB_SIDE


def test_exif_orientation_is_applied_before_it_is_dropped():
    img = Image.new("RGB", (300, 100), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° to show
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    clean = photos.clean_photo(buf.getvalue())
    assert (clean.width, clean.height) == (100, 300)


@pytest.mark.parametrize("data,words", [
    (b"", "kosong"),
    (b"GIF89a" + b"\0" * 100, "bukan gambar"),
    (b"\x89PNG\r\n\x1a\n" + b"rusak" * 20, "bukan gambar"),
    (b"x" * (photos.MAX_PHOTO_BYTES + 1), "10 MB"),
])
def test_bad_photos_are_refused_with_a_reason(data, words):
    with pytest.raises(photos.PhotoError, match=words):
        photos.clean_photo(data, "foto.jpg")


def test_other_formats_are_refused():
    buf = io.BytesIO()
    Image.new("RGB", (50, 50)).save(buf, "GIF")
    with pytest.raises(photos.PhotoError, match="JPEG atau PNG"):
        photos.clean_photo(buf.getvalue(), "a.gif")


def test_png_with_transparency_becomes_a_jpeg():
    buf = io.BytesIO()
    Image.new("RGBA", (40, 30), (255, 0, 0, 0)).save(buf, "PNG")
    clean = photos.clean_photo(buf.getvalue(), "a.png")
    assert Image.open(io.BytesIO(clean.image)).format == "JPEG" and clean.qr_texts == ()


def test_classify():
    venues = {"V-A": "A", "V-B": "B"}
    assert photos.classify(("V-A",), "A", venues) == (photos.QR_MATCH, None)
    assert photos.classify(("V-B",), "A", venues) == (photos.QR_OTHER_OPD, "B")
    assert photos.classify(("V-B", "V-A"), "A", venues) == (photos.QR_MATCH, None)
    assert photos.classify(("https://contoh.invalid",), "A", venues) == (photos.QR_UNKNOWN, None)
    assert photos.classify((), "A", venues) == (photos.QR_UNREADABLE, None)


# ---------------------------------------------------------------- visits with photos, every database
def test_visit_photos_are_stored_and_checked(engine):
    own = poster_photo(venue(engine, "DINKES"), "Dinas Kesehatan")
    other = poster_photo(venue(engine, "DISKOMINFO"), "Diskominfo", angle=-8, seed=2)
    vid = add_visit(engine=engine, actor=SATPOL, visit=visit(),
                    photos=[("pintu.jpg", own), ("lain.jpg", other), ("kosong.jpg", blank_photo())])
    df = visit_photos(engine=engine, visit_ids=[vid])
    assert list(df["qr_result"]) == [photos.QR_MATCH, photos.QR_OTHER_OPD, photos.QR_UNREADABLE]
    assert df["result_label"].iloc[1] == "Kode OPD lain: Diskominfo"
    assert all(Image.open(io.BytesIO(bytes(t))).format == "JPEG" for t in df["thumb"])
    with engine.connect() as conn:
        stored = conn.execute(select(VisitPhoto.image).where(VisitPhoto.visit_id == vid)).scalars().all()
    assert all(len(bytes(b)) > 20_000 and b"KameraPonsel" not in bytes(b) for b in stored)
    # a code that is no registered venue
    res = add_photos(engine=engine, actor=SATPOL, visit_id=vid, photos=[("x.jpg", poster_photo("BUKAN-VENUE-99"))])
    assert res == [photos.QR_UNKNOWN]
    with pytest.raises(VisitError, match="Paling banyak 5"):
        add_photos(engine=engine, actor=SATPOL, visit_id=vid, photos=[("a.jpg", blank_photo())] * 2)


def test_a_bad_photo_stores_nothing(engine):
    with pytest.raises(VisitError, match="bukan gambar"):
        add_visit(engine=engine, actor=SATPOL, visit=visit(), photos=[("a.jpg", blank_photo()), ("b.jpg", b"xx")])
    with engine.connect() as conn:
        assert conn.execute(select(VisitPhoto.id)).first() is None


@pytest.mark.parametrize("missing", ["qr_posted", "scanning_enforced"])
def test_unanswered_questions_are_refused(engine, missing):
    with pytest.raises(VisitError, match="Jawab dulu"):
        add_visit(engine=engine, actor=SATPOL, visit=visit(**{missing: None}))


def test_pimpinan_cannot_record_a_visit(engine):
    with pytest.raises(auth.PermissionDenied):
        add_visit(engine=engine, actor=auth.Actor("pimpinan", "pimpinan"), visit=visit())


# ---------------------------------------------------------------- display names
def test_display_name(engine):
    auth.add_user(engine=engine, actor=auth.SYSTEM, username="budi", password="sandi-budi-1", role="satpolpp",
                  display_name="  Budi   Santoso ")
    assert auth.display_name_of(engine=engine, username="budi") == "Budi Santoso"
    budi = auth.Actor("budi", "satpolpp")
    auth.set_display_name(engine=engine, actor=budi, username="budi", display_name="Budi S., Satpol PP")
    assert auth.display_name_of(engine=engine, username="budi") == "Budi S., Satpol PP"
    with pytest.raises(auth.PermissionDenied):
        auth.set_display_name(engine=engine, actor=budi, username="kominfo", display_name="x")
    with pytest.raises(auth.AuthError, match="maksimal 120"):
        auth.set_display_name(engine=engine, actor=budi, username="budi", display_name="x" * 121)
    auth.set_display_name(engine=engine, actor=auth.SYSTEM, username="budi", display_name="")
    assert auth.display_name_of(engine=engine, username="budi") == "budi"  # falls back to the user name


# ---------------------------------------------------------------- sessions
@pytest.fixture
def user(engine):
    auth.add_user(engine=engine, actor=auth.SYSTEM, username="petugas", password="sandi-lama-1", role="satpolpp")
    return "petugas"


def test_session_resumes_until_idle_or_ended(engine, user):
    t0 = now_utc()
    token = sessions.create(engine=engine, username=user, now=t0)
    assert "sandi" not in token
    assert sessions.resume(engine=engine, token=token, now=t0 + timedelta(minutes=5)) == user
    assert sessions.resume(engine=engine, token=token, now=t0 + timedelta(minutes=34)) == user  # used at 5
    assert sessions.resume(engine=engine, token=token, now=t0 + timedelta(minutes=65)) is None  # idle 31 min
    assert sessions.resume(engine=engine, token=token, now=t0 + timedelta(minutes=66)) is None  # and removed
    token = sessions.create(engine=engine, username=user)
    sessions.end(engine=engine, token=token)
    assert sessions.resume(engine=engine, token=token) is None


def test_forged_or_old_tokens_are_refused(engine, user):
    token = sessions.create(engine=engine, username=user)
    v, secret, issued, sig = token.split(".")
    assert sessions.resume(engine=engine, token=f"{v}.{secret}.{issued}.{sig[:-2]}AA") is None
    assert sessions.resume(engine=engine, token=f"{v}.{secret}.{int(issued) - 10}.{sig}") is None
    for junk in (None, "", "a.b.c", "v1.x.y.z", "x" * 5000, 12):
        assert sessions.resume(engine=engine, token=junk) is None
    late = now_utc() + timedelta(seconds=sessions.MAX_AGE_S + 60)
    assert sessions.resume(engine=engine, token=token, now=late) is None  # however recently used


def test_disabling_or_a_new_password_ends_every_session(engine, user):
    a = sessions.create(engine=engine, username=user)
    b = sessions.create(engine=engine, username=user)
    auth.set_active(engine=engine, actor=auth.SYSTEM, username=user, active=False)
    assert sessions.resume(engine=engine, token=a) is None and sessions.resume(engine=engine, token=b) is None
    auth.set_active(engine=engine, actor=auth.SYSTEM, username=user, active=True)
    c = sessions.create(engine=engine, username=user)
    auth.change_own_password(engine=engine, actor=auth.Actor(user, "satpolpp"), old="sandi-lama-1", new="sandi-baru-2")
    assert sessions.resume(engine=engine, token=c) is None
    d = sessions.create(engine=engine, username=user)
    auth.set_password(engine=engine, actor=auth.SYSTEM, username=user, password="sandi-ketiga-3")
    assert sessions.resume(engine=engine, token=d) is None


def test_a_disabled_account_is_refused_even_with_a_live_row(engine, user):
    token = sessions.create(engine=engine, username=user)
    from data_access.models import User

    with engine.begin() as conn:  # disabled behind the app's back: the row is still there
        conn.execute(update(User).where(User.username == user).values(active=False))
    assert sessions.resume(engine=engine, token=token) is None


def test_session_key_file_is_private(tmp_path, monkeypatch):
    import stat

    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.delenv("PANTAU_SESSION_KEY", raising=False)
    key = sessions.session_key()
    assert len(key) == 64 and sessions.session_key() == key
    assert stat.S_IMODE((tmp_path / "d" / "session.key").stat().st_mode) == 0o600
