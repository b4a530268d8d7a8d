"""A stand-in for the benchmark binaries in orchestration_results_test.py:
`fake_bench.py NAME --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
--benchmark_format=json` prints Google Benchmark JSON for NAME (orchestration_bench or
evidence_bench) with the medians below, and mean rows that must not be taken for them.

  orchestration_bench  needs TESSERA_BENCH_HOME: a copy of FAKE_HOME (never FAKE_HOME itself);
                       BM_RuleRouting 5000 / 4000 ns, BM_AdapterSwitch 150 / 140 us,
                       BM_AskResident skipped with "not answered".
  evidence_bench       needs TESSERA_BENCH_DIR, an existing folder;
                       BM_AppendSyncNormal/real_time 50 / 20 us,
                       BM_AppendSyncFull/real_time 2.5 / 0.03 ms.
FAKE_FAIL=bench: orchestration_bench exits 1 with an error on stderr.
"""
import json
import os
import sys

FLAGS = ["--benchmark_repetitions=5", "--benchmark_report_aggregates_only=true",
         "--benchmark_format=json"]


def aggregate(name, aggregate_name, real, cpu, unit):
    return {"name": f"{name}_{aggregate_name}", "run_name": name, "run_type": "aggregate",
            "repetitions": 5, "aggregate_name": aggregate_name, "real_time": real,
            "cpu_time": cpu, "time_unit": unit}


def main(args):
    name, flags = args[0], args[1:]
    assert flags == FLAGS, flags
    if name == "orchestration_bench":
        home = os.environ["TESSERA_BENCH_HOME"]
        assert os.path.realpath(home) != os.path.realpath(os.environ["FAKE_HOME"]), home
        assert os.path.exists(os.path.join(home, "store.marker")), home
        if os.environ.get("FAKE_FAIL") == "bench":
            print("fake orchestration_bench: exploded", file=sys.stderr)
            return 1
        rows = [aggregate("BM_RuleRouting", "mean", 9999, 9999, "ns"),
                aggregate("BM_RuleRouting", "median", 5000, 4000, "ns"),
                aggregate("BM_AdapterSwitch", "median", 150, 140, "us"),
                {"name": "BM_AskResident", "run_name": "BM_AskResident", "run_type": "iteration",
                 "error_occurred": True, "error_message": "not answered"}]
    elif name == "evidence_bench":
        assert os.path.isdir(os.environ["TESSERA_BENCH_DIR"])
        rows = [aggregate("BM_AppendSyncNormal/real_time", "median", 50, 20, "us"),
                aggregate("BM_AppendSyncNormal/real_time", "stddev", 1, 1, "us"),
                aggregate("BM_AppendSyncFull/real_time", "median", 2.5, 0.03, "ms")]
    else:
        print(f"fake bench: unexpected name {name}", file=sys.stderr)
        return 64
    print(json.dumps({"context": {"num_cpus": 2, "load_avg": [1.5, 1.0, 0.5]},
                      "benchmarks": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
