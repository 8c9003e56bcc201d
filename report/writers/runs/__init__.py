"""The PDF by chapter runs: laid out apart, on every core, and assembled into one PDF.

plan.py splits the book into runs and writes each run's document and sheet; pool.py
lays runs out in engine processes; folios.py makes the page-number layer; assemble.py
(with fonts.py) puts the run PDFs and the layer together into one tagged PDF.
"""
