from tests.autoreply.conftest import fake_gemini

__all__ = ["fake_gemini"]
