"""Local patient records: SQLAlchemy models, Alembic migrations, the records API, backups.

Entry points (import the submodule; this package imports nothing heavy):

- ``clinic_app.storage.database.open_database(url=None)`` -> ``Database``
- ``clinic_app.storage.records``: patients, clinicians, evaluations, addenda, audit (plain values)
- ``clinic_app.storage.backup``: online backup, restore, pruning
- ``clinic_app.storage.errors``: the exceptions a person can act on
- ``clinic_app.storage.demo`` / ``clinic_app.storage.synthetic``: sample and benchmark data

No Qt and no reportlab here (import-linter contract).
"""
