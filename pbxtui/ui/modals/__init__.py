"""Typed modals: each names its exact target and returns a typed result through dismiss()."""
