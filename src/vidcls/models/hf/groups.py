"""Optimiser parameter groups for the transformer families: layer-wise learning-rate decay."""

from __future__ import annotations

from torch import nn

from vidcls.errors import VidclsError
from vidcls.models.hf.network import FAMILIES, HubVideoClassifier, blocks


def layer_decay_groups(network: nn.Module, model: str, *, lr: float, weight_decay: float, decay: float) -> list[dict]:
    """Optimiser parameter groups with layer-wise learning-rate decay (BEiT's, as VideoMAE fine-tunes).

    Block ``i`` of ``L`` learns at ``lr * decay ** (L - i)``; the embeddings at ``decay ** (L + 1)``;
    the head (norm, pooler, classifier) at ``lr``. Biases, norms and position/class tokens get no
    weight decay (VideoMAE's ``optim_factory``). VideoPrism's blocks count spatial then temporal;
    its temporal position embeddings sit with the embeddings (as TimeSformer's time embeddings do)
    and the norm between the two stacks with the head.
    """
    if model not in FAMILIES or not isinstance(network, HubVideoClassifier):
        raise VidclsError(f"--model.layer_decay is for the transformer families ({', '.join(FAMILIES)}), not {model}")
    family = FAMILIES[model]
    stack = blocks(network.model, family)
    depth = len(stack)
    embeddings = (family.embeddings,) if isinstance(family.embeddings, str) else family.embeddings
    layer_of = {id(p): 0 for name in embeddings for p in network.model.get_submodule(name).parameters()}
    layer_of.update({id(p): index for index, block in enumerate(stack, 1) for p in block.parameters()})
    groups: dict[tuple[int, bool], dict] = {}
    for name, parameter in network.named_parameters():
        if not parameter.requires_grad:
            continue
        layer = layer_of.get(id(parameter), depth + 1)
        decays = parameter.ndim > 1 and not name.endswith(("cls_token", "position_embeddings", "time_embeddings"))
        group = groups.setdefault((layer, decays), {
            "params": [], "lr": lr * decay ** (depth + 1 - layer), "weight_decay": weight_decay if decays else 0.0,
        })
        group["params"].append(parameter)
    return [groups[key] for key in sorted(groups)]
