"""Programme reporting: staff activity records and their imports, the indicator report, exports.

No Flask here: functions take a SQLAlchemy Session and plain values, flush, never commit.
"""
