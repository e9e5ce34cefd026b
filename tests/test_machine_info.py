"""Benchmarks name the CPU their figures came from, with the instruction sets int8 speed hangs on."""
from spacy_ner_ext.experiments.benchmark import cpu_info, machine_info

EPYC = """processor\t: 0
model name\t: AMD EPYC 7B12
flags\t\t: fpu sse sse2 avx avx2 fma bmi2
processor\t: 1
model name\t: AMD EPYC 7B12
flags\t\t: fpu sse sse2 avx avx2 fma bmi2
"""
SAPPHIRE = """processor\t: 0
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: avx avx2 avx512f avx512_vnni avx_vnni amx_int8 amx_bf16 amx_tile
"""


def test_an_avx2_only_cpu_is_named_without_vnni():
    info = cpu_info(EPYC)
    assert info["cpu_model"] == "AMD EPYC 7B12"
    assert info["isa"] == {"avx2": True, "avx512f": False, "avx512_vnni": False, "avx_vnni": False,
                           "amx_int8": False, "amx_bf16": False}


def test_a_cpu_with_vnni_and_amx_says_so():
    assert all(cpu_info(SAPPHIRE)["isa"].values())


def test_without_proc_cpuinfo_the_flags_are_unknown_not_false():
    assert cpu_info("")["isa"] is None


def test_machine_info_carries_the_cpu_and_torchs_int8_engine():
    info = machine_info()
    assert {"cpu_model", "isa", "torch_quantized_engine", "torch_threads", "logical_cpus"} <= set(info)
