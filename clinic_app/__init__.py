"""clinic_app: whole-body evaluation of posterior-thigh pain for physical therapists."""

__version__ = "0.1.0"
