"""LoRA adapters in the layout of Hugging Face PEFT: W x + (alpha / r) * B (A x), with A [r, in]
initialised at random and B [out, r] at zero, written as adapter_config.json and
adapter_model.safetensors with PEFT's tensor names."""
import json
import math
import os

import torch
from torch import nn

import safetensors_io

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


class LoraLinear(nn.Module):
    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scale = alpha / r

    def forward(self, x):
        return self.base(x) + (x @ self.lora_A.t() @ self.lora_B.t()) * self.scale


def attach(model, r, alpha):
    """Freezes `model` and wraps every target projection; returns the trainable parameters."""
    for p in model.parameters():
        p.requires_grad_(False)
    params = []
    for layer in model.model.layers:
        for parent in (layer.self_attn, layer.mlp):
            for name in TARGETS:
                if hasattr(parent, name):
                    wrapped = LoraLinear(getattr(parent, name), r, alpha)
                    setattr(parent, name, wrapped)
                    params += [wrapped.lora_A, wrapped.lora_B]
    return params


def save(model, out_dir, r, alpha, base_dir):
    tensors = {}
    for i, layer in enumerate(model.model.layers):
        for kind, parent in (("self_attn", layer.self_attn), ("mlp", layer.mlp)):
            for name in TARGETS:
                m = getattr(parent, name, None)
                if isinstance(m, LoraLinear):
                    prefix = f"base_model.model.model.layers.{i}.{kind}.{name}"
                    tensors[f"{prefix}.lora_A.weight"] = m.lora_A.data
                    tensors[f"{prefix}.lora_B.weight"] = m.lora_B.data
    safetensors_io.save(tensors, os.path.join(out_dir, "adapter_model.safetensors"), {"format": "pt"})
    config = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": alpha,
              "target_modules": TARGETS, "lora_dropout": 0.0, "fan_in_fan_out": False,
              "bias": "none", "modules_to_save": None, "use_rslora": False, "use_dora": False,
              "base_model_name_or_path": os.path.basename(os.path.normpath(base_dir))}
    with open(os.path.join(out_dir, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=1)
