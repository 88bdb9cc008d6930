"""`python -m data_access ...`: the operator's command line.

Every error ends as one line on stderr and a non-zero exit code, never a traceback."""
from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from . import config
from .calendar import DEFAULT_DEMO_DAYS as DEFAULT_DAYS
from .fmt import fmt_int

EXIT_ERROR = 1
EXIT_USAGE = 2


class CliError(Exception):
    pass


def _engine(args):
    from .db import make_engine

    return make_engine(getattr(args, "database_url", None) or None)


def _ready_engine(args):
    """An engine on a database whose schema is current (runs `init` implicitly only for
    the embedded default, like the app does)."""
    from sqlalchemy import inspect

    engine = _engine(args)
    if not inspect(engine).has_table("opd"):
        raise CliError("Skema basis data belum dibuat. Jalankan dulu: python -m data_access init")
    from .holidays import install

    install(engine)  # working days count the database's holidays
    return engine


def cmd_init(args) -> int:
    from .db import init_schema
    from .registry import load_registry

    from .holidays import ensure_loaded, install

    engine = _engine(args)
    init_schema(engine)
    with engine.begin() as conn:
        res = load_registry(conn)
        n_holidays = ensure_loaded(conn)
    install(engine)
    print(f"Skema siap. Registri OPD: {res['added']} ditambahkan, {res['updated']} diperbarui.")
    if n_holidays:
        print(f"Hari libur: {n_holidays} entri dari berkas bawaan dimuat. Lihat: python -m data_access libur")
    return 0


def cmd_libur(args) -> int:
    from . import holidays
    from .auth import SYSTEM, Actor

    engine = _ready_engine(args)
    if not _has_table(engine, "holiday"):
        raise CliError("Tabel hari libur belum ada. Jalankan dulu: python -m data_access init")
    if args.muat:
        actor = Actor(args.user, "kominfo") if args.user else SYSTEM
        try:
            res = holidays.load_file(engine=engine, actor=actor, path=args.muat)
        except holidays.HolidayFileError as exc:
            raise CliError(f"{args.muat}: {exc} Tidak ada yang diubah.") from None
        for r in res:
            if not r["changed"]:
                print(f"{r['year']}: tidak berubah ({r['after']} entri).")
                continue
            detail = []
            if r["added"]:
                detail.append("ditambah " + ", ".join(d.strftime("%d/%m") for d in r["added"]))
            if r["removed"]:
                detail.append("dihapus " + ", ".join(d.strftime("%d/%m") for d in r["removed"]))
            print(f"{r['year']}: {r['before']} -> {r['after']} entri" + (f" ({'; '.join(detail)})" if detail else "")
                  + ".")
    if args.tahun:
        rows = holidays.entries(engine=engine, year=args.tahun)
        if not rows:
            raise CliError(f"Belum ada data hari libur tahun {args.tahun}; hari kerjanya dihitung Senin-Jumat saja.")
        days = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
        for h in rows:
            print(f"{h.day:%d/%m/%Y} {days[h.day.weekday()]:<7} {h.kind:<15} {h.name} [{h.legal_basis}]")
        print(f"{len(rows)} entri")
        return 0
    cov = holidays.coverage(engine=engine)
    if cov.empty:
        print("Belum ada data hari libur. Muat dengan: python -m data_access libur --muat BERKAS")
        return 0
    print(f"{'TAHUN':<6} {'LIBUR NAS.':>10} {'CUTI BERS.':>10} {'HARI KERJA':>10}  DASAR HUKUM")
    for r in cov.itertuples():
        print(f"{r.year:<6} {r.libur_nasional:>10} {r.cuti_bersama:>10} {r.workdays:>10}  {'; '.join(r.legal_basis)}")
    print("Tahun lain: hari kerja dihitung Senin-Jumat saja (tanpa libur nasional dan cuti bersama).")
    return 0


def _has_table(engine, table: str) -> bool:
    from sqlalchemy import inspect

    return inspect(engine).has_table(table)


def cmd_demo(args) -> int:
    from .auth import create_demo_accounts
    from .demo import fill_demo

    engine = _ready_engine(args)
    bar, progress = _progress_bar("Menulis data demo", disabled=args.quiet)
    n = fill_demo(engine, seed=args.seed, days=args.days, scale=args.scale, progress=progress)
    bar.close()
    made = create_demo_accounts(engine=engine)
    print(f"Data demo ditulis: {fmt_int(n)} check-in (seed {args.seed}, {args.days} hari, skala {args.scale}).")
    if made:
        print("Akun demo dibuat: " + ", ".join(f"{u} (sandi demo-{u})" for u in made))
    return 0


def _progress_bar(desc: str, *, disabled: bool):
    """A tqdm bar on stderr and the (done, total) callback that data_access functions call."""
    from tqdm import tqdm

    bar = tqdm(total=0, unit=" baris", desc=desc, disable=disabled, file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, progress


def _read_password(args, prompt="Kata sandi: ") -> str:
    if args.password_stdin:
        pw = sys.stdin.readline().rstrip("\n")
    else:
        if not sys.stdin.isatty():
            raise CliError("Tidak ada terminal untuk menanyakan kata sandi; pakai --password-stdin.")
        pw = getpass.getpass(prompt)
        if getpass.getpass("Ulangi kata sandi: ") != pw:
            raise CliError("Kedua kata sandi tidak sama.")
    if not pw:
        raise CliError("Kata sandi kosong.")
    return pw


def cmd_users(args) -> int:
    from . import auth

    engine = _ready_engine(args)
    if args.users_cmd == "add":
        auth.add_user(engine=engine, actor=auth.SYSTEM, username=args.username,
                      password=_read_password(args), role=args.role)
        print(f"Pengguna {args.username} ({args.role}) dibuat.")
    elif args.users_cmd == "passwd":
        auth.set_password(engine=engine, actor=auth.SYSTEM, username=args.username, password=_read_password(args))
        print(f"Kata sandi {args.username} diganti.")
    elif args.users_cmd in ("disable", "enable"):
        auth.set_active(engine=engine, actor=auth.SYSTEM, username=args.username, active=args.users_cmd == "enable")
        print(f"Pengguna {args.username} {'diaktifkan' if args.users_cmd == 'enable' else 'dinonaktifkan'}.")
    elif args.users_cmd == "list":
        df = auth.list_users(engine=engine)
        if df.empty:
            print("Belum ada pengguna. Buat dengan: python -m data_access users add NAMA --role kominfo")
        else:
            for r in df.itertuples():
                state = "aktif" if r.active else "nonaktif"
                print(f"{r.username:<20} {r.role:<10} {state}")
    return 0


def _parser(**kwargs) -> argparse.ArgumentParser:
    """An ArgumentParser whose own words are in Bahasa Indonesia."""
    p = argparse.ArgumentParser(add_help=False, **kwargs)
    p._positionals.title = "argumen"
    p._optionals.title = "opsi"
    p.add_argument("-h", "--help", action="help", help="tampilkan bantuan ini lalu keluar")
    return p


def cmd_opds(args) -> int:
    import json

    from . import domain, queries
    from .onboarding import today_wib, without_qr

    engine = _ready_engine(args)
    rng = queries.data_range(engine=engine)
    end = today_wib()
    start = rng[0] if rng else end
    ov = queries.opd_overview(engine=engine, start=start, end=end)
    if args.without_qr:
        ov = without_qr(ov, as_of=end)
    out = ov[["code", "short_name", "name", "category", "kecamatan", "venue_code", "qr_printed_on", "stage"]].copy()
    out["stage_label"] = domain.stage_label(ov)
    out["qr_printed_on"] = [d.isoformat() if d is not None and d == d else "" for d in out["qr_printed_on"]]
    out["venue_code"] = out["venue_code"].fillna("")
    if args.format == "json":
        print(json.dumps(out.to_dict("records"), ensure_ascii=False, indent=2))
    elif args.format == "csv":
        from .safe_export import csv_text

        sys.stdout.write(csv_text(out))
    else:
        print(f"{'KODE':<16} {'NAMA':<34} {'KECAMATAN':<13} {'TAHAP':<30} {'DICETAK'}")
        for r in out.itertuples():
            print(f"{r.code:<16} {r.short_name[:34]:<34} {r.kecamatan:<13} {r.stage_label:<30} {r.qr_printed_on or '-'}")
        print(f"{len(out)} OPD")
    return 0


def cmd_qr(args) -> int:
    from pathlib import Path

    from . import qr
    from .auth import SYSTEM
    from .onboarding import log_download, venues

    engine = _ready_engine(args)
    out = Path(args.out)
    if args.all:
        if args.code:
            raise CliError("Pilih salah satu: KODE atau --all.")
        vs = venues(engine=engine)
        if not vs:
            raise CliError("Belum ada OPD dengan kode venue.")
        out.write_bytes(qr.posters_zip(vs))
        log_download(engine=engine, actor=SYSTEM, target="semua", fmt="zip")
        print(f"{len(vs)} poster ditulis ke {out}")
        return 0
    if not args.code:
        raise CliError("Sebutkan KODE OPD (mis. DISKOMINFO) atau --all.")
    match = [v for v in venues(engine=engine) if v.code == args.code.upper()]
    if not match:
        from . import queries

        known = set(queries.opd_registry(engine=engine)["code"])
        if args.code.upper() in known:
            raise CliError(f"OPD {args.code.upper()} belum memiliki kode venue PeduliLindungi.")
        raise CliError(f"OPD {args.code!r} tidak dikenal. Lihat daftar: python -m data_access opds")
    out.write_bytes(qr.render(match[0], args.format))
    log_download(engine=engine, actor=SYSTEM, target=match[0].code, fmt=args.format)
    print(f"{args.format.upper()} ditulis ke {out}")
    return 0


def cmd_brief(args) -> int:
    from pathlib import Path

    from . import boundaries
    from .auth import SYSTEM, Actor
    from .brief import Week, brief_pdf, last_full_week, log_brief, weekly_brief
    from .calendar import now_utc
    from .onboarding import today_wib

    engine = _ready_engine(args)
    week = Week.parse(args.week) if args.week else last_full_week(today_wib())
    try:
        bounds = boundaries.load(boundaries.configured_file(config.get_settings().boundary_geojson))
    except boundaries.BoundaryError as exc:
        print(f"Peringatan: {exc}; peta memakai batas kecamatan bawaan.", file=sys.stderr)
        bounds = boundaries.load()
    actor = Actor(args.user, "kominfo") if args.user else SYSTEM
    try:
        data = weekly_brief(engine=engine, week=week, kabupaten=args.kabupaten)
    except ValueError as exc:
        print(f"Galat: {exc}.", file=sys.stderr)
        return 2
    Path(args.out).write_bytes(brief_pdf(data, bounds, generated_by=actor.username, generated_at=now_utc()))
    log_brief(engine=engine, actor=actor, week=week, via="cli", scope=data.scope)
    note = "" if data.this.has_data else " (pekan tanpa data check-in)"
    print(f"Laporan mingguan {week.label()} untuk OPD {data.scope.label} ditulis ke {args.out}{note}")
    return 0


def cmd_import(args) -> int:
    import json
    from pathlib import Path

    from . import auth
    from .importer import ImportFailed, import_file, parse_mapping

    try:
        mapping = parse_mapping(args.map)
    except ImportFailed as exc:
        raise CliError(str(exc)) from None
    if args.save_profile and len(args.files) > 1:
        raise CliError("--save-profile hanya untuk satu berkas sekali jalan.")
    engine = _ready_engine(args)
    actor = auth.Actor(args.user, "kominfo") if args.user else auth.SYSTEM
    results, failed = [], 0
    for path in args.files:  # one file's failure never stops the others
        bar, progress = _progress_bar(Path(path).name, disabled=args.quiet or args.json)
        try:
            res = import_file(engine=engine, actor=actor, path=path, progress=progress, mapping=mapping,
                              profile=args.profile, sheet=args.sheet, dry_run=args.dry_run)
        except Exception as exc:
            bar.close()
            failed += 1
            msg = str(exc) if isinstance(exc, ImportFailed) else f"galat tak terduga ({exc.__class__.__name__})"
            results.append({"file_name": Path(path).name, "error": msg})
            if not args.json:
                print(f"{path}: GAGAL: {msg}", file=sys.stderr)
            continue
        bar.close()
        summary = res.summary()
        if args.rejects and res.rows_rejected:
            out = Path(args.rejects)
            if len(args.files) > 1:
                out = out.with_name(f"{out.stem}-{Path(path).stem}{out.suffix or '.csv'}")
            try:
                res.write_rejects(out)
                summary["rejects_file"] = str(out)
            except OSError as exc:  # the rows are stored; only the list of rejects is missing
                failed += 1
                summary["rejects_error"] = f"{out}: {exc.strerror or exc}"
                if not args.json:
                    print(f"{path}: baris ditolak tidak dapat ditulis ke {out}: {exc.strerror or exc}",
                          file=sys.stderr)
        if args.save_profile:
            from .import_profiles import save_profile

            try:
                saved = save_profile(engine=engine, actor=actor, name=args.save_profile, columns=res.columns,
                                     mapping={**res.mapping, **{f: c for f, c in mapping.items() if c is None}},
                                     sheet=res.sheet)
                summary["saved_profile"] = saved.name
            except ValueError as exc:
                failed += 1
                summary["profile_error"] = str(exc)
                if not args.json:
                    print(f"{path}: profil impor tidak disimpan: {exc}", file=sys.stderr)
        results.append(summary)
        if not args.json:
            print(f"{path}: {fmt_int(res.rows_total)} baris: {fmt_int(res.rows_loaded)} dimuat, "
                  f"{fmt_int(res.rows_rejected)} ditolak, {fmt_int(res.rows_duplicate)} duplikat"
                  + (" (periksa saja: tidak ada yang disimpan)" if res.dry_run else "")
                  + (f" (baris ditolak: {summary['rejects_file']})" if "rejects_file" in summary else ""))
            for line in _import_details(res, summary):
                print("  " + line)
    if args.json:
        print(json.dumps(results[0] if len(results) == 1 else results, ensure_ascii=False))
    return EXIT_ERROR if failed else 0


def _import_details(res, summary: dict) -> list[str]:
    """How the file was read and what was rejected, one fact a line."""
    from .importer import DELIMITER_LABELS

    lines = []
    if res.sheet is not None:
        lines.append(f"lembar: {res.sheet}")
    if res.encoding is not None:
        lines.append(f"dibaca sebagai {res.encoding}, pemisah {DELIMITER_LABELS.get(res.delimiter, repr(res.delimiter))}")
    lines.append("kolom: " + ", ".join(f"{f}={c}" for f, c in res.mapping.items())
                 + (f" (profil {res.profile})" if res.profile else ""))
    if res.reasons:
        lines.append("ditolak: " + "; ".join(f"{r} ({fmt_int(n)})" for r, n in res.reasons.items()))
    if "saved_profile" in summary:
        lines.append(f"profil impor disimpan: {summary['saved_profile']}")
    return lines


def cmd_profiles(args) -> int:
    from . import auth
    from .import_profiles import delete_profile, list_profiles

    engine = _ready_engine(args)
    if args.delete:
        actor = auth.Actor(args.user, "kominfo") if args.user else auth.SYSTEM
        from .importer import ImportFailed

        try:
            delete_profile(engine=engine, actor=actor, name=args.delete)
        except ImportFailed as exc:
            raise CliError(str(exc)) from None
        print(f"Profil impor {args.delete} dihapus.")
        return 0
    profiles = list_profiles(engine=engine)
    if not profiles:
        print("Belum ada profil impor. Simpan dengan: python -m data_access import BERKAS --map ... "
              "--save-profile NAMA")
        return 0
    for p in profiles:
        cols = ", ".join(f"{f}={c}" for f, c in p.mapping.items() if c is not None)
        print(f"{p.name}" + (f" (lembar {p.sheet})" if p.sheet else "") + f": {cols}  [diubah {p.updated_by}]")
    return 0


def cmd_bench(args) -> int:
    import json

    # the benchmark lives outside the data package (it runs the app through Streamlit)
    from benchmark.runner import format_report, run_bench

    url = args.database_url or config.get_settings().database_url
    log = (lambda *_: None) if args.json else (lambda m: print(m, file=sys.stderr))
    result = run_bench(url=url, rows=args.rows, import_rows=args.import_rows, users=args.users, opds=args.opds,
                       memory_rows=(tuple(args.memory_rows) if args.memory_rows is not None
                                    else (4 * args.import_rows,)) if args.import_rows else (), log=log)
    print(json.dumps(result, ensure_ascii=False) if args.json else format_report(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _parser(
        prog="python -m data_access",
        description="Pantau PeduliLindungi Bangkalan: perintah operator (skema, data demo, pengguna, ...).",
    )
    p.add_argument("--database-url", help="URL SQLAlchemy basis data (bawaan: DATABASE_URL atau berkas SQLite)")
    sub = p.add_subparsers(dest="cmd", metavar="PERINTAH", parser_class=_parser)

    s = sub.add_parser("init", help="buat/perbarui skema dan muat registri OPD (aman diulang)")
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("libur", help="hari libur nasional dan cuti bersama: tahun yang tercakup, isi, muat berkas")
    s.add_argument("--muat", metavar="BERKAS",
                   help="muat berkas CSV (tanggal,nama,jenis,dasar_hukum); tiap tahun di berkas menggantikan "
                        "seluruh entri tahun itu")
    s.add_argument("--tahun", type=int, metavar="TAHUN", help="tampilkan hari libur satu tahun")
    s.add_argument("--user", help="nama operator yang dicatat di log audit (bawaan: sistem)")
    s.set_defaults(func=cmd_libur)

    s = sub.add_parser("demo", help="isi check-in demo (deterministik untuk --seed yang sama)")
    s.add_argument("--seed", type=int, default=2022, help="benih acak (bawaan 2022)")
    s.add_argument("--days", type=int, default=DEFAULT_DAYS,
                   help=f"jumlah hari sejak 5 Januari 2022 (bawaan {DEFAULT_DAYS})")
    s.add_argument("--scale", type=float, default=1.0, help="pengali volume (bawaan 1.0)")
    s.add_argument("--quiet", action="store_true", help="tanpa bilah kemajuan")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("opds", help="daftar registri OPD beserta tahap onboarding")
    s.add_argument("--without-qr", action="store_true", help="hanya OPD yang belum mencetak QR")
    s.add_argument("--format", choices=["table", "csv", "json"], default="table", help="format keluaran")
    s.set_defaults(func=cmd_opds)

    s = sub.add_parser("qr", help="tulis QR (PNG/SVG) atau poster A4 (PDF) satu OPD, atau semua poster (ZIP)")
    s.add_argument("code", nargs="?", help="kode OPD, mis. DISKOMINFO")
    s.add_argument("--all", action="store_true", help="semua poster OPD yang punya kode venue, sebagai ZIP")
    s.add_argument("--format", choices=["png", "svg", "pdf"], default="pdf", help="format (bawaan pdf)")
    s.add_argument("--out", required=True, help="berkas keluaran")
    s.set_defaults(func=cmd_qr)

    s = sub.add_parser("brief", help="laporan mingguan pimpinan (PDF satu halaman A4) untuk satu pekan Senin-Minggu")
    s.add_argument("--week", metavar="YYYY-Www",
                   help="pekan ISO, mis. 2022-W05 (bawaan: pekan lalu, Senin-Minggu terakhir yang sudah lewat, WIB)")
    s.add_argument("--out", required=True, metavar="BERKAS.pdf", help="berkas PDF keluaran")
    s.add_argument("--kabupaten", metavar="NAMA",
                   help="hanya OPD satu kabupaten/kota dari registri, mis. Bangkalan atau \"Kota Surabaya\" "
                        "(bawaan: semua OPD di registri)")
    s.add_argument("--user", help="nama yang dicatat di log audit dan di laporan (bawaan: sistem)")
    s.set_defaults(func=cmd_brief)

    s = sub.add_parser("import", help="impor ekspor check-in (CSV atau XLSX); satu berkas = satu transaksi")
    s.add_argument("files", nargs="+", metavar="BERKAS")
    s.add_argument("--map", action="append", metavar="ISIAN=KOLOM",
                   help="kolom berkas untuk satu isian, mis. --map venue=\"Tempat Check-in\" (boleh berulang; "
                        "KOLOM kosong: isian tidak dipakai). Isian: waktu, tanggal, jam, venue, status, jenis, hasil, "
                        "nik, telepon, nama, visitor_id")
    s.add_argument("--profile", metavar="NAMA", help="pakai profil impor tersimpan (pemetaan kolom dan lembar)")
    s.add_argument("--save-profile", metavar="NAMA", help="simpan pemetaan kolom berkas ini sebagai profil impor")
    s.add_argument("--sheet", metavar="LEMBAR", help="lembar XLSX yang dibaca (nama atau nomor urut dari 1)")
    s.add_argument("--dry-run", action="store_true",
                   help="periksa saja: laporan lengkap (dimuat, ditolak, duplikat, alasan) tanpa menyimpan apa pun")
    s.add_argument("--rejects", metavar="BERKAS",
                   help="tulis baris yang ditolak (nomor baris dan alasan) ke CSV ini, dengan pemisah berkas asal")
    s.add_argument("--json", action="store_true", help="cetak hasil sebagai satu objek JSON")
    s.add_argument("--user", help="nama operator yang dicatat di log (bawaan: sistem)")
    s.add_argument("--quiet", action="store_true", help="tanpa bilah kemajuan")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("profiles", help="daftar profil impor (pemetaan kolom tersimpan), atau hapus satu")
    s.add_argument("--delete", metavar="NAMA", help="hapus profil impor ini")
    s.add_argument("--user", help="nama operator yang dicatat di log audit (bawaan: sistem)")
    s.set_defaults(func=cmd_profiles)

    s = sub.add_parser("bench", help="ukur kecepatan dan memori pada basis data uji baru (MENGHAPUS isinya)")
    s.add_argument("--rows", type=int, default=5_000_000, help="jumlah check-in sintetis (bawaan 5.000.000)")
    s.add_argument("--import-rows", type=int, default=1_000_000, help="baris CSV untuk uji impor (0 = lewati)")
    s.add_argument("--memory-rows", type=int, nargs="*", metavar="N",
                   help="impor lain yang diukur memori puncaknya (bawaan: 4 x --import-rows, yaitu 4.000.000; "
                        "tanpa angka = lewati)")
    s.add_argument("--users", type=int, default=20, help="sesi bersamaan (0 = lewati)")
    s.add_argument("--opds", type=int, metavar="N",
                   help="registri provinsi sintetis: N OPD di 38 kabupaten/kota (bawaan: registri Bangkalan)")
    s.add_argument("--json", action="store_true", help="cetak hasil sebagai satu objek JSON")
    s.set_defaults(func=cmd_bench)

    s = sub.add_parser("users", help="kelola akun lokal")
    us = s.add_subparsers(dest="users_cmd", metavar="AKSI", required=True, parser_class=_parser)
    a = us.add_parser("add", help="tambah pengguna (kata sandi ditanyakan)")
    a.add_argument("username")
    a.add_argument("--role", required=True, choices=["pimpinan", "kominfo", "satpolpp"])
    a.add_argument("--password-stdin", action="store_true", help="baca kata sandi dari standard input")
    a = us.add_parser("passwd", help="ganti kata sandi pengguna")
    a.add_argument("username")
    a.add_argument("--password-stdin", action="store_true", help="baca kata sandi dari standard input")
    a = us.add_parser("disable", help="nonaktifkan pengguna")
    a.add_argument("username")
    a = us.add_parser("enable", help="aktifkan kembali pengguna")
    a.add_argument("username")
    us.add_parser("list", help="daftar pengguna")
    s.set_defaults(func=cmd_users)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except BrokenPipeError:  # output piped into `head`: not an error
        return 0
    except Exception as exc:
        message = error_message(exc)
        if message is None:
            raise
        print(message, file=sys.stderr)
    except KeyboardInterrupt:
        print("Dibatalkan.", file=sys.stderr)
    return EXIT_ERROR


def error_message(exc: BaseException) -> str | None:
    """The operator's message for an error a command can meet (bad input, an unreachable
    database, a file that cannot be read or written); None for any other (a bug: its traceback)."""
    from .auth import AuthError
    from .demo import DemoRefused

    if isinstance(exc, (CliError, AuthError, DemoRefused, config.ConfigError, ValueError)):
        return f"Galat: {exc}"
    if isinstance(exc, OperationalError):
        return f"Galat: basis data tidak dapat dihubungi atau ditulis ({exc.orig})."
    if isinstance(exc, SQLAlchemyError):
        return f"Galat basis data: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
    if isinstance(exc, OSError):
        return f"Galat berkas: {exc}"
    return None
