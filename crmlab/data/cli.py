"""`crmlab data ...` subcommands: generate a shop, export it, print the schema."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .io import get_shop, save_shop
from .schema import schema_markdown
from .simulate import simulate
from .world import read_world_info, write_world


def _out_dir(out: str) -> Path:
    """``--out`` as a folder path; a ValueError naming the option when it is a file."""
    from crmlab._checks import out_folder

    return out_folder(out, "--out")


def _generate(args: argparse.Namespace) -> int:
    size: str | int = int(args.size) if str(args.size).isdigit() else args.size
    if args.format == "parquet":
        return _generate_world(args, size)
    shop = simulate(size, seed=args.seed, progress=True,
                    **({"detail": args.detail} if args.detail else {}))
    out = _out_dir(args.out) if args.out else Path("datasets/shop") / str(args.size)
    save_shop(shop, out)
    print(f"wrote {shop!r} to {out}")
    return 0


def _generate_world(args: argparse.Namespace, size: str | int) -> int:
    """A world in customer blocks (bounded memory) for crmlab.scale."""
    if args.detail != "orders":
        raise ValueError("--format parquet writes the order tables only; add --detail orders.")
    if not args.out:
        raise ValueError("--format parquet needs --out DIR (a new folder, outside the "
                         "repository for big worlds).")
    out = write_world(size, _out_dir(args.out), seed=args.seed, block_size=args.block_size,
                      jobs=args.jobs, progress=True)
    info = read_world_info(out) or {}
    print(f"wrote {info.get('n_customers', 0):,} customers, "
          f"{info.get('rows', {}).get('orders', 0):,} orders in {info.get('blocks')} blocks to "
          f"{out}; analyse it with crmlab.scale (e.g. crmlab.scale.world_tables('{out}')).")
    return 0


def _export(args: argparse.Namespace) -> int:
    workbook = args.format == "xlsx" and str(args.out).lower().endswith(".xlsx")
    out = Path(args.out).parent if workbook else _out_dir(args.out)
    shop = get_shop(args.data, seed=args.seed)
    out.mkdir(parents=True, exist_ok=True)
    if args.format == "csv":
        for name, df in shop.tables.items():
            df.to_csv(out / f"{name}.csv", index=False)
        print(f"wrote {len(shop.tables)} CSV files to {out}")
    else:
        target = Path(args.out) if workbook else out / "shop.xlsx"  # --out FILE.xlsx or a folder
        too_big = [n for n, df in shop.tables.items() if len(df) > 1_048_575]
        if too_big:
            raise ValueError(f"--format xlsx: table(s) {too_big} exceed Excel's 1,048,576 rows; use --format csv.")
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
    gen.add_argument("--format", choices=["shop", "parquet"], default="shop",
                     help="shop: one Parquet file per table, loadable with get_shop (default); "
                          "parquet: a world written in customer blocks for crmlab.scale "
                          "(needs --detail orders and --out)")
    gen.add_argument("--block-size", type=int, default=200_000,
                     help="customers simulated at a time with --format parquet (memory bound)")
    gen.add_argument("--jobs", type=int, default=1,
                     help="blocks simulated side by side with --format parquet")
    gen.set_defaults(func=_generate)
    exp = sub.add_parser("export", help="write a shop's tables as CSV files or one Excel workbook")
    exp.add_argument("--format", choices=["csv", "xlsx"], required=True)
    exp.add_argument("--out", required=True,
                     help="folder (CSV files, or shop.xlsx in it) or, with --format xlsx, the workbook's file name")
    exp.add_argument("--data", default="small", help="size name, number of customers or a saved folder")
    exp.add_argument("--seed", type=int, default=42)
    exp.set_defaults(func=_export)
    sch = sub.add_parser("schema", help="print the table contract as Markdown")
    sch.set_defaults(func=_schema)
