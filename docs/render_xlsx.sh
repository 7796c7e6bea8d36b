#!/bin/sh
# Look at an xlsx workbook as a person would: LibreOffice (headless) prints it to PDF and
# poppler's pdftoppm turns a page into a PNG.
#
#   docs/render_xlsx.sh                      the example's November report -> docs/xlsx-report.png
#   docs/render_xlsx.sh BOOK.xlsx OUT.png [PAGE]   any workbook, page 1 by default
#
# Needs soffice (libreoffice-calc) and pdftoppm (poppler-utils). Run from the repository root.
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ $# -eq 0 ]; then
    python -m svcmetrics compute --config examples/svcmetrics.yaml --month 2026-11 \
        --format xlsx --output "$work/book.xlsx" --quiet
    out=docs/xlsx-report.png
    page=1
else
    cp "$1" "$work/book.xlsx"
    out=$2
    page=${3:-1}
fi
# a profile of its own, so that a LibreOffice already open (or another run) does not interfere
soffice -env:UserInstallation="file://$work/profile" --headless --convert-to pdf \
    --outdir "$work" "$work/book.xlsx" >/dev/null
pdftoppm -png -r 110 -f "$page" -l "$page" -singlefile "$work/book.pdf" "$work/page"
cp "$work/page.png" "$out"
echo "$out"
