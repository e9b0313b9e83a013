"""Data that leaves the clinic or comes in from another system (issue 20).

``fhir``: a patient's record as a FHIR R4B ``Bundle`` (built and validated with the
``fhir.resources`` models). ``csv_export``: findings, patients and the audit trail as CSV, with
keyed pseudonyms for research. ``patient_import``: an existing patient list loaded from CSV in
one transaction, after a dry run that says what would be refused and why.

The layer sits above storage, reports and core (it reads records, builds the signed PDFs and
runs the assessment) and below cli and ui, which only ask it for a dict, a file or a plan.
"""
