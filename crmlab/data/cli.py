"""`crmlab data ...` subcommands: generate a shop, export it, print the schema."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .io import get_shop, save_shop
from .schema import schema_markdown
from .simulate import simulate


def _generate(args: argparse.Namespace) -> int:
    size: str | int = int(args.size) if str(args.size).isdigit() else args.size
    shop = simulate(size, seed=args.seed, progress=True,
                    **({"detail": args.detail} if args.detail else {}))
    out = Path(args.out) if args.out else Path("datasets/shop") / str(args.size)
    save_shop(shop, out)
    print(f"wrote {shop!r} to {out}")
    return 0


def _export(args: argparse.Namespace) -> int:
    shop = get_shop(args.data, seed=args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.format == "csv":
        for name, df in shop.tables.items():
            df.to_csv(out / f"{name}.csv", index=False)
        print(f"wrote {len(shop.tables)} CSV files to {out}")
    else:
        target = out / "shop.xlsx"
        too_big = [n for n, df in shop.tables.items() if len(df) > 1_048_575]
        if too_big:
            raise SystemExit(f"crmlab data export: table(s) {too_big} exceed Excel's 1,048,576 rows; use --format csv.")
        with __import__("pandas").ExcelWriter(target) as writer:
            for name, df in shop.tables.items():
                df.to_excel(writer, sheet_name=name[:31], index=False)
        print(f"wrote {target}")
    return 0


def _schema(args: argparse.Namespace) -> int:
    sys.stdout.write(schema_markdown())
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `data` command group to the crmlab CLI."""
    data = subparsers.add_parser("data", help="generate, export or describe the synthetic shop")
    sub = data.add_subparsers(dest="data_command", required=True)
    gen = sub.add_parser("generate", help="simulate a shop and save it as Parquet")
    gen.add_argument("--size", default="small", help="tiny, small, medium or a number of customers")
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--out", default=None, help="folder (default datasets/shop/<size>)")
    gen.add_argument("--detail", choices=["full", "orders"], default=None)
    gen.set_defaults(func=_generate)
    exp = sub.add_parser("export", help="write a shop's tables as CSV files or one Excel workbook")
    exp.add_argument("--format", choices=["csv", "xlsx"], required=True)
    exp.add_argument("--out", required=True)
    exp.add_argument("--data", default="small", help="size name, number of customers or a saved folder")
    exp.add_argument("--seed", type=int, default=42)
    exp.set_defaults(func=_export)
    sch = sub.add_parser("schema", help="print the table contract as Markdown")
    sch.set_defaults(func=_schema)
