"""From per-centre scores to claims.

Block-bootstrap intervals and the accuracy-matched null (excess geo-bias).
"""
