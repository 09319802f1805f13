#!/usr/bin/env python3
"""Training/inference logprob mismatch on real kernels, written for `gauntlet precision`.

The PyTorch counterpart of `gauntlet precision --demo`. A bf16 decoder runs two ways:

- engine path: prefill the prompt, then decode one token at a time with a KV cache, sampling
  each token (what vLLM/SGLang do);
- trainer path: one teacher-forced forward over the whole sequence (what FSDP/Megatron do).

Both run in bf16 on the same weights, and nothing else differs: the GEMM and attention kernels
are picked by shape, so they tile and reduce in different orders. Sampled tokens are scored by
both paths, once with a bf16 LM head (bf16 GEMM, bf16 logits) and once with an fp32 one. Each
head configuration samples from its own engine with the same seed.

Nothing is downloaded. Without --model-dir a small decoder gets seeded random weights. With
--model-dir PATH, a local Hugging Face causal LM is loaded (needs `transformers`); prompts are
random token ids either way.

Output in --out (default precision-out):
  {bf16,fp32}-head-{inference,trainer}.jsonl   input files for `gauntlet precision`
  meta.json                                    device, versions, settings, per-layer divergence

Run:
  python examples/precision_torch.py --out precision-out
  python examples/precision_torch.py --model-dir /models/Qwen3-0.6B --sequences 32
  gauntlet precision --inference precision-out/bf16-head-inference.jsonl \
      --trainer precision-out/bf16-head-trainer.jsonl --svg bf16.svg
"""

import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="precision-out", help="output directory")
    p.add_argument("--model-dir", help="local Hugging Face model directory (default: a small random decoder)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sequences", type=int, default=64, help="sequences sampled per head configuration")
    p.add_argument("--prompt-length", type=int, default=16, help="random prompt tokens (not compared)")
    p.add_argument("--new-tokens", type=int, default=112, help="tokens sampled after the prompt (compared)")
    p.add_argument("--micro-batch", type=int, default=8, help="sequences per trainer forward")
    p.add_argument(
        "--engine-split-k",
        type=int,
        default=0,
        help="emulate a split-K engine: its linear layers (built-in decoder) and LM head sum K in this many chunks, "
        "partial sums stored in the output dtype and added last chunk first (default 0: the device's own kernels only)",
    )
    # the built-in decoder
    p.add_argument("--layers", type=int, default=8)
    p.add_argument("--d-model", type=int, default=512)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--d-ff", type=int, default=1536)
    p.add_argument("--vocab", type=int, default=32000)
    p.add_argument("--logit-scale", type=float, default=6.0, help="std of the random head's logits")
    args = p.parse_args()
    if args.prompt_length < 1 or args.new_tokens < 1 or args.sequences < 1 or args.micro_batch < 1 or args.engine_split_k < 0:
        p.error("--sequences, --prompt-length, --new-tokens and --micro-batch must be at least 1, --engine-split-k at least 0")
    if args.d_model % args.heads or (args.d_model // args.heads) % 2:
        p.error("--d-model must split into --heads heads of even width")
    return args


def linear(x, w, split_k=0):
    """x @ w.T. With split_k > 1, K is cut into that many chunks, each chunk's product stored in the
    output dtype (bf16 for bf16 inputs), and the partial sums added in fp32, last chunk first."""
    if split_k <= 1:
        return F.linear(x, w)
    parts = [F.linear(xs, ws) for xs, ws in zip(x.tensor_split(split_k, dim=-1), w.tensor_split(split_k, dim=-1))]
    total = torch.zeros(parts[0].shape, dtype=torch.float32, device=x.device)
    for part in reversed(parts):
        total = total + part.float()
    return total.to(x.dtype)


def attention(q, k, v, causal):
    """q: [B, H, Tq, hd]; k, v: [B, H, Tk, hd]. `causal` only when Tq == Tk (a prefill)."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    # torch < 2.0: the same maths unfused (softmax in fp32, as fused kernels keep it)
    scores = (q @ k.transpose(-1, -2)).float() / math.sqrt(q.shape[-1])
    if causal:
        t = q.shape[-2]
        scores = scores.masked_fill(torch.ones(t, t, dtype=torch.bool, device=q.device).triu(1), float("-inf"))
    return scores.softmax(-1).to(q.dtype) @ v


class TinyDecoder:
    """Pre-norm decoder: RMSNorm, rotary attention, SwiGLU MLP, all bf16. Seeded random weights."""

    def __init__(self, args, device):
        g = torch.Generator().manual_seed(args.seed)
        d, ff, L = args.d_model, args.d_ff, args.layers
        self.heads, self.head_dim = args.heads, d // args.heads
        residual = 1 / math.sqrt(2 * L)

        def normal(shape, std):
            return (torch.randn(shape, generator=g) * std).to(device=device, dtype=torch.bfloat16)

        self.embedding = normal((args.vocab, d), 1.0)
        self.layers = [
            dict(
                wq=normal((d, d), d**-0.5),
                wk=normal((d, d), d**-0.5),
                wv=normal((d, d), d**-0.5),
                wo=normal((d, d), residual * d**-0.5),
                w_gate=normal((ff, d), d**-0.5),
                w_up=normal((ff, d), d**-0.5),
                w_down=normal((d, ff), residual * ff**-0.5),
            )
            for _ in range(L)
        ]
        self.head_weight = normal((args.vocab, d), args.logit_scale * d**-0.5)
        max_len = args.prompt_length + args.new_tokens
        half = self.head_dim // 2
        inv_freq = 1.0 / (10000 ** (torch.arange(half, dtype=torch.float32) * 2 / self.head_dim))
        angles = torch.arange(max_len, dtype=torch.float32)[:, None] * inv_freq[None, :]
        self.cos, self.sin = angles.cos().to(device), angles.sin().to(device)
        self.description = f"random decoder: {L} layers, d_model {d}, {args.heads} heads, MLP {ff}, vocab {args.vocab}"

    @staticmethod
    def rms_norm(x):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-6)).to(x.dtype)

    def rotate(self, x, start):
        half = self.head_dim // 2
        cos = self.cos[start : start + x.shape[-2]]
        sin = self.sin[start : start + x.shape[-2]]
        x1, x2 = x[..., :half].float(), x[..., half:].float()
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1).to(x.dtype)

    def body(self, ids, cache, start, split_k=0):
        """Runs `ids` [B, T] at positions start.. on top of `cache`. Returns the final normed
        hidden states [B, T, d], the residual stream after the embedding and after each layer,
        and the new cache."""
        B, T = ids.shape
        x = self.embedding[ids]
        states = [x]
        new_cache = []
        for i, w in enumerate(self.layers):
            h = self.rms_norm(x)
            q, k, v = (linear(h, w[n], split_k).view(B, T, self.heads, self.head_dim).transpose(1, 2) for n in ("wq", "wk", "wv"))
            q, k = self.rotate(q, start), self.rotate(k, start)
            if cache is not None:
                k = torch.cat([cache[i][0], k], dim=2)
                v = torch.cat([cache[i][1], v], dim=2)
            new_cache.append((k, v))
            a = attention(q, k, v, causal=cache is None and T > 1)
            x = x + linear(a.transpose(1, 2).reshape(B, T, -1), w["wo"], split_k)
            h = self.rms_norm(x)
            x = x + linear(F.silu(linear(h, w["w_gate"], split_k)) * linear(h, w["w_up"], split_k), w["w_down"], split_k)
            states.append(x)
        return self.rms_norm(x), states, new_cache

    def vocab_size(self):
        return self.head_weight.shape[0]


class HuggingFaceDecoder:
    """A local Hugging Face causal LM; the LM head is applied here, in bf16 or fp32."""

    def __init__(self, path, device):
        try:
            from transformers import AutoModelForCausalLM
        except ImportError:
            sys.exit("--model-dir needs the transformers package")
        model = AutoModelForCausalLM.from_pretrained(path, torch_dtype=torch.bfloat16, local_files_only=True)
        config = model.config
        # Heads that do more than one matrix product would not be reproduced by the head below.
        if getattr(config, "final_logit_softcapping", None) or getattr(config, "logit_scale", 1.0) not in (None, 1, 1.0):
            sys.exit(f"{path}: the model's LM head soft-caps or scales its logits; this script applies a plain head")
        self.model = model.to(device).eval()
        self.decoder = model.get_decoder()
        self.head_weight = model.get_output_embeddings().weight
        self.description = f"{path} ({config.model_type}, {config.num_hidden_layers} layers)"

    def body(self, ids, cache, start, split_k=0):
        # split_k applies to the LM head only: the model's own layers run its own kernels
        out = self.decoder(input_ids=ids, past_key_values=cache, use_cache=True, output_hidden_states=True)
        # hidden_states: the embedding, then each layer's output (the last one after the final norm)
        return out.last_hidden_state, list(out.hidden_states), out.past_key_values

    def vocab_size(self):
        return self.head_weight.shape[0]


def head_logprobs(hidden, weight, precision, split_k=0):
    """Log-softmax (in fp32) of the LM head's logits, computed in bf16 or in fp32."""
    if precision == "bf16":
        logits = linear(hidden, weight, split_k)
    else:
        logits = linear(hidden.float(), weight.float(), split_k)
    return torch.log_softmax(logits.float(), dim=-1)


@torch.inference_mode()
def engine_sample(model, prompts, new_tokens, precision, generator, split_k):
    """Prefill, then one token at a time with the KV cache. Returns the tokens, the engine's
    logprobs of the sampled tokens (full-sequence aligned) and its residual stream per layer."""
    B, P = prompts.shape
    final, states, cache = model.body(prompts, None, 0, split_k)
    chunks = [[s] for s in states]
    logprobs = torch.zeros(B, P + new_tokens, dtype=torch.float32, device=prompts.device)
    tokens = prompts
    hidden = final[:, -1]
    for step in range(new_tokens):
        lp = head_logprobs(hidden, model.head_weight, precision, split_k)
        nxt = torch.multinomial(lp.exp(), 1, generator=generator)
        logprobs[:, P + step] = lp.gather(1, nxt).squeeze(1)
        tokens = torch.cat([tokens, nxt], dim=1)
        if step + 1 < new_tokens:
            final, states, cache = model.body(nxt, cache, P + step, split_k)
            for chunk, s in zip(chunks, states):
                chunk.append(s)
            hidden = final[:, -1]
    return tokens, logprobs, [torch.cat(c, dim=1) for c in chunks]


@torch.inference_mode()
def trainer_score(model, tokens, precision, micro_batch):
    """Teacher-forced forward over whole sequences, `micro_batch` at a time, as a trainer does."""
    B, T = tokens.shape
    logprobs = torch.zeros(B, T, dtype=torch.float32, device=tokens.device)
    per_layer = None
    for b in range(0, B, micro_batch):
        ids = tokens[b : b + micro_batch]
        final, states, _ = model.body(ids, None, 0)
        lp = head_logprobs(final[:, :-1], model.head_weight, precision)
        logprobs[b : b + micro_batch, 1:] = lp.gather(-1, ids[:, 1:, None]).squeeze(-1)
        # the engine never runs the last sampled token, so compare positions 0..T-2
        states = [s[:, :-1] for s in states]
        per_layer = [[s] for s in states] if per_layer is None else [p + [s] for p, s in zip(per_layer, states)]
    return logprobs, [torch.cat(p, dim=0) for p in per_layer]


def divergence(engine_states, trainer_states):
    rows = []
    for i, (e, t) in enumerate(zip(engine_states, trainer_states)):
        e64, t64 = e.double(), t.double()
        rel = ((e64 - t64).norm() / t64.norm().clamp_min(1e-300)).item()
        rows.append(dict(name="embedding" if i == 0 else f"layer {i}", relativeL2=rel, maxAbsDiff=(e64 - t64).abs().max().item(), differing=(e != t).double().mean().item()))
    return rows


def write_jsonl(path, ids, tokens, logprobs, mask):
    with open(path, "w") as f:
        for i in range(tokens.shape[0]):
            f.write(json.dumps({"id": ids[i], "tokenIds": tokens[i].tolist(), "logprobs": logprobs[i].tolist(), "mask": mask}) + "\n")


def main():
    args = parse_args()
    device = torch.device(args.device)
    # A true fp32 head: no TF32 for fp32 matmuls. bf16 GEMMs keep PyTorch's defaults on both paths.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(args.seed)
    model = HuggingFaceDecoder(args.model_dir, device) if args.model_dir else TinyDecoder(args, device)
    os.makedirs(args.out, exist_ok=True)
    prompt_gen = torch.Generator(device="cpu").manual_seed(args.seed)
    prompts = torch.randint(0, model.vocab_size(), (args.sequences, args.prompt_length), generator=prompt_gen).to(device)
    mask = [0] * args.prompt_length + [1] * args.new_tokens
    ids = [f"torch-{args.seed}-{i}" for i in range(args.sequences)]
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    meta = dict(
        device=device_name,
        torch=torch.__version__,
        cuda=torch.version.cuda,
        model=model.description,
        seed=args.seed,
        sequences=args.sequences,
        promptLength=args.prompt_length,
        newTokens=args.new_tokens,
        microBatch=args.micro_batch,
        engineSplitK=args.engine_split_k,
        runs={},
    )
    print(f"{model.description} on {device_name}, torch {torch.__version__}")
    for precision in ("bf16", "fp32"):
        started = time.time()
        # the same seed for both heads: they differ only where their engines' distributions do
        generator = torch.Generator(device=device).manual_seed(args.seed)
        tokens, engine_lp, engine_states = engine_sample(model, prompts, args.new_tokens, precision, generator, args.engine_split_k)
        trainer_lp, trainer_states = trainer_score(model, tokens, precision, args.micro_batch)
        files = {side: os.path.join(args.out, f"{precision}-head-{side}.jsonl") for side in ("inference", "trainer")}
        write_jsonl(files["inference"], ids, tokens, engine_lp, mask)
        write_jsonl(files["trainer"], ids, tokens, trainer_lp, mask)
        delta = (trainer_lp - engine_lp)[:, args.prompt_length :].double()
        summary = dict(meanAbsDelta=delta.abs().mean().item(), maxAbsDelta=delta.abs().max().item(), k3=(torch.expm1(delta) - delta).mean().item())
        layers = divergence(engine_states, trainer_states)
        meta["runs"][precision] = dict(files=files, summary=summary, layers=layers, seconds=round(time.time() - started, 2))
        print(f"\n{precision} LM head: mean |Δ logprob| {summary['meanAbsDelta']:.4g}, max {summary['maxAbsDelta']:.4g}, KL k3 {summary['k3']:.4g}")
        for row in layers:
            print(f"  {row['name']:<10} rel. L2 {row['relativeL2']:.3e}   max |Δ| {row['maxAbsDiff']:.3e}   differing {100 * row['differing']:.1f}%")
        if summary["maxAbsDelta"] == 0 and all(row["differing"] == 0 for row in layers):
            print("  the engine and trainer kernels gave bit-identical results on this device; --engine-split-k 4 emulates a split-K engine")
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
    print(f"\nwrote {args.out}/meta.json and the input files; the full report:")
    for precision in ("bf16", "fp32"):
        files = meta["runs"][precision]["files"]
        print(f"  gauntlet precision --inference {files['inference']} --trainer {files['trainer']} --svg {precision}-head.svg")


if __name__ == "__main__":
    main()
