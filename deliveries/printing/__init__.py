"""Every level's paper: pick lists, dispatch manifests, receiving lists, door lists, pick-up
notices and label sheets of a packed cycle, as HTML pages, PDF (WeasyPrint) and XLSX (openpyxl).

- :mod:`.selectors` reads the data of one list, set-based (a handful of queries per list, never
  one per package), and decides who may see which list;
- :mod:`.rendering` turns that data into HTML, PDF and XLSX, and fingerprints it;
- :mod:`.services` generates and keeps the files, regenerating a list whose data changed and
  marking the old one superseded.
"""
