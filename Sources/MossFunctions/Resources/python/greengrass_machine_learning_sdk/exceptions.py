# Moss: a clean-room implementation of the Greengrass V1 machine learning SDK's client interface. No AWS code.
"""The SDK's two exceptions."""


class GreengrassInferenceException(Exception):
    """The inference service refused the request (an unknown input, a wrong shape, a model that failed)."""


class GreengrassDependencyException(Exception):
    """The inference service could not be reached, or there is no such service for this function."""
