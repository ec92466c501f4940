"""Running gvrs: the web server and its background worker, backups and restores, and the
demo. Nothing here computes a figure; it starts, keeps and feeds what does.
"""
