"""Tests of ship.py's v2 report helpers on hand-made `tessera eval` reports: Wilson intervals as
printed, the router's in-domain and abstention rates, and the quality bar verdicts. Standard
library only (no torch, no SentencePiece): `python3 -m unittest test_ship` in models/train.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ship  # noqa: E402


def report(correct, total, by_split=None):
    return {"exact_match": {"correct": correct, "total": total, "accuracy": correct / total,
                            "wilson95": [0.5, 0.75]},
            "by_split": by_split or {}}


def tally(correct, total):
    return {"correct": correct, "total": total}


class ShipV2(unittest.TestCase):
    def test_interval(self):
        self.assertEqual(ship.interval(report(97, 100)), "97.0% (50.0–75.0)")

    def test_router_rates(self):
        r = report(0, 1, {"novel:arith": tally(9, 10), "novel:date": tally(10, 10), "novel:none": tally(8, 10)})
        self.assertEqual(ship.router_rates(r), ((19, 20), (8, 10)))

    def test_bars(self):
        good = {"keys/arith": report(80, 100), "templates/arith": report(96, 100), "novel/arith": report(95, 100)}
        self.assertEqual(ship.bar_status("model", "arith", good), "≥ 95%: met")
        bad = dict(good, **{"novel/arith": report(90, 100), "novel/reverse-hard": report(1, 100)})
        self.assertEqual(ship.bar_status("adapter", "arith-lora", bad), "≥ 95%: missed: novel/arith 90.0%")
        self.assertEqual(ship.bar_status("generalist", "generalist", bad), "none (reported as measured)")
        self.assertEqual(ship.bar_status("base", "base", bad), "none (reported as measured)")

    def test_router_bar(self):
        ok = {"novel/routing": report(0, 1, {"novel:arith": tally(98, 100), "novel:none": tally(95, 100)})}
        self.assertEqual(ship.bar_status("model", "router", ok), "met")
        low = {"novel/routing": report(0, 1, {"novel:arith": tally(90, 100), "novel:none": tally(80, 100)})}
        self.assertEqual(ship.bar_status("model", "router", low),
                         "missed: novel in-domain 90.0%, novel abstention 80.0%")


if __name__ == "__main__":
    unittest.main()
