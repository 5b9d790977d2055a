"""The send path: every outbound action goes through one gate (recipient policy, visible-text
checks, rate limits) and is audited; scheduled sends fire through the same sender."""
