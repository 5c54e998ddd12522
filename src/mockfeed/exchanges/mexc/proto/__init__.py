"""MEXC's protobuf push schema (``mexc_push.proto``) and its generated Python module."""
