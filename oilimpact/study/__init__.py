"""Studies: event studies of returns and intervention analysis of volumes.

Nothing in this package touches the network or the disk: functions take frames and
return result values.
"""
