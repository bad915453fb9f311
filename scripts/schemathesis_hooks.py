"""schemathesis hooks for scripts/schemathesis.sh: a policy pack's body is TOML text."""

import schemathesis


@schemathesis.serializer("application/toml")
def toml_serializer(ctx, value):
    if isinstance(value, bytes):
        return {"data": value}
    if not isinstance(value, str):
        value = str(value)
    return {"data": value.encode("utf-8")}
