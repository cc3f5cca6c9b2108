"""Data-parallel training across processes (``torchrun --nproc_per_node=N gan-studio train …``).

Each rank draws its own minibatches and noise (its training stream is seeded with ``seed + rank``), and
after every backward pass the gradients are averaged over the ranks with one all-reduce per network —
the same arithmetic as DistributedDataParallel. DDP's own wrapper is not used: Algorithm 1 runs D twice
(real, then fake) before one backward and runs it again inside G's step, which DDP's per-forward hooks
do not support without unused-parameter detection on every call; an explicit bucketed all-reduce is both
simpler and exact. All ranks start from rank 0's weights, so they stay identical; rank 0 writes the run
folder, the checkpoint and the GIF. Backends: NCCL on CUDA devices, gloo on the CPU.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DistInfo:
    rank: int
    world_size: int
    local_rank: int
    backend: str

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def requested() -> bool:
    """True when launched by torchrun (or another launcher setting WORLD_SIZE > 1)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1")) > 1
    except ValueError:
        return False


def init_from_env(device: str = "auto") -> DistInfo | None:
    """Join the process group torchrun describes; None when not launched that way."""
    if not requested():
        return None
    import torch.distributed as dist

    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and device in ("auto", "cuda") or str(device).startswith("cuda")
    backend = "nccl" if use_cuda else "gloo"
    if use_cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return DistInfo(dist.get_rank(), dist.get_world_size(), local_rank, backend)


def device_for(info: DistInfo, device: str) -> str:
    """Each rank on its own GPU (cuda:LOCAL_RANK) under NCCL; the CPU under gloo."""
    return f"cuda:{info.local_rank}" if info.backend == "nccl" else "cpu"


def broadcast_module(module: torch.nn.Module) -> None:
    import torch.distributed as dist

    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, src=0)


def average_gradients(module: torch.nn.Module, world_size: int) -> None:
    """Average the gradients over the ranks: one flattened all-reduce (a single bucket)."""
    import torch.distributed as dist

    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world_size
    i = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[i:i + n].view_as(g))
        i += n


def checksum(module: torch.nn.Module) -> float:
    with torch.no_grad():
        return float(sum(p.double().sum() * (i + 1) for i, p in enumerate(module.parameters())))


def ranks_agree(*modules: torch.nn.Module) -> bool:
    """All ranks hold the same weights (they must, after identical averaged updates)."""
    import torch.distributed as dist

    dev = next(modules[0].parameters()).device
    mine = torch.tensor([checksum(m) for m in modules], dtype=torch.float64, device=dev)
    allv = [torch.zeros_like(mine) for _ in range(dist.get_world_size())]
    dist.all_gather(allv, mine)
    return all(torch.allclose(v, allv[0], rtol=1e-9, atol=1e-9) for v in allv)


def finish() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
