"""Reading a sound strip the way Blender plays it (operators/services/sound_source.py), on real bpy.

The test audio is a float32 ramp, so each sample says which time of the file it is: a window read from a
strip can be checked sample for sample against the start frame, trims, sound offset and frame rate.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = [pytest.mark.blender, pytest.mark.blender_compat]

SECONDS = 3.0


@pytest.fixture
def ramp_wav(tmp_path):
    from bake_helpers import RATE, write_wav

    n = round(SECONDS * RATE)
    return write_wav(tmp_path / "ramp.wav", (np.arange(n) + 1) / n * 0.9)  # never 0: silence is padding


def _sound_time(window: np.ndarray) -> np.ndarray:
    """The file time (s) each sample of a window comes from (padding -> negative)."""
    from bake_helpers import RATE

    n = round(SECONDS * RATE)
    return np.where(window > 0, window / 0.9 * n - 1, -RATE) / RATE


def test_strip_start_frame_sets_the_first_frame(ext, empty_scene, ramp_wav):
    from bake_helpers import RATE, add_sound_strip

    ss = ext.operators.services.sound_source
    scene = empty_scene
    scene.render.fps, scene.render.fps_base = 24, 1.0
    strip = add_sound_strip(scene, ramp_wav, 10)
    audio = ss.read_strip_audio(scene, strip)
    assert audio.start_frame == 10
    assert audio.frame_count == 72 == strip.frame_final_end - strip.frame_final_start
    assert audio.sample_rate == RATE
    assert len(audio.samples) == 3 * RATE
    assert _sound_time(audio.samples[:1])[0] == pytest.approx(0.0, abs=1 / RATE)


def test_trims_are_honoured(ext, empty_scene, ramp_wav):
    from bake_helpers import RATE, add_sound_strip

    ss = ext.operators.services.sound_source
    scene = empty_scene
    scene.render.fps, scene.render.fps_base = 25, 1.0
    strip = add_sound_strip(scene, ramp_wav, 5)
    strip.frame_offset_start = 10  # trims 0.4 s off the start
    strip.frame_offset_end = 20  # and 0.8 s off the end
    audio = ss.read_strip_audio(scene, strip)
    assert audio.start_frame == 15
    assert audio.frame_count == 75 - 30
    assert len(audio.samples) == round(45 / 25 * RATE)
    times = _sound_time(audio.samples)
    assert times[0] == pytest.approx(0.4, abs=1.5 / RATE)
    assert times[-1] == pytest.approx(0.4 + 45 / 25, abs=1.5 / RATE)


def test_handles_are_read_under_each_release_s_names(ext, empty_scene, ramp_wav):
    import warnings

    from bake_helpers import add_sound_strip

    ss = ext.operators.services.sound_source
    empty_scene.render.fps, empty_scene.render.fps_base = 25, 1.0
    strip = add_sound_strip(empty_scene, ramp_wav, 5)
    strip.frame_offset_start, strip.frame_offset_end = 10, 20
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the older names, deprecated in 5.3
        older = (strip.frame_final_start, strip.frame_final_end)
    assert ss.strip_handles(strip) == older == (15, 60)
    assert ss.strip_content_start(strip) == 5


def test_fps_base_is_honoured(ext, empty_scene, ramp_wav):
    from bake_helpers import RATE, add_sound_strip

    ss = ext.operators.services.sound_source
    scene = empty_scene
    scene.render.fps, scene.render.fps_base = 30, 1.001  # 29.97 fps
    strip = add_sound_strip(scene, ramp_wav, 1)
    strip.frame_offset_start = 12
    audio = ss.read_strip_audio(scene, strip)
    fps = 30 / 1.001
    assert audio.start_frame == 13
    assert _sound_time(audio.samples[:1])[0] == pytest.approx(12 / fps, abs=1.5 / RATE)
    assert len(audio.samples) == round(audio.frame_count / fps * RATE)
    # One frame at 29.97 fps is 1.001/30 s of sound, not 1/30 s.
    assert audio.frame_count == strip.frame_final_end - strip.frame_final_start


def test_sound_offset_delays_the_sound(ext, empty_scene, ramp_wav):
    from bake_helpers import RATE, add_sound_strip

    ss = ext.operators.services.sound_source
    scene = empty_scene
    scene.render.fps, scene.render.fps_base = 24, 1.0
    strip = add_sound_strip(scene, ramp_wav, 1)
    if not hasattr(strip, "sound_offset"):
        pytest.skip("this Blender has no strip sound offset (added in 4.3)")
    strip.sound_offset = 0.5  # the sound starts half a second into the strip
    audio = ss.read_strip_audio(scene, strip)
    head = round(0.5 * RATE)
    assert np.all(audio.samples[: head - 1] == 0)
    assert _sound_time(audio.samples[head + 1 : head + 2])[0] == pytest.approx(1 / RATE, abs=1.5 / RATE)


def test_default_strip_is_the_selected_else_the_first(ext, empty_scene, ramp_wav):
    from bake_helpers import add_sound_strip

    ss = ext.operators.services.sound_source
    scene = empty_scene
    late = add_sound_strip(scene, ramp_wav, 200, channel=1, name="late")
    early = add_sound_strip(scene, ramp_wav, 1, channel=2, name="early")
    for strip in (late, early):
        strip.select = False
    scene.sequence_editor.active_strip = None
    assert ss.default_sound_strip(scene).name == "early"
    late.select = True
    assert ss.default_sound_strip(scene).name == "late"
    assert ss.chosen_strip(scene, "early").name == "early"


def test_no_sound_strip_says_what_to_do(ext, empty_scene):
    ss = ext.operators.services.sound_source
    assert ss.default_sound_strip(empty_scene) is None
    with pytest.raises(ss.SoundSourceError, match="no sound strip: add one"):
        ss.chosen_strip(empty_scene, "")


def test_named_strip_errors_say_what_to_do(ext, empty_scene, ramp_wav):
    from bake_helpers import add_sound_strip

    ss = ext.operators.services.sound_source
    scene = empty_scene
    add_sound_strip(scene, ramp_wav, 1)
    with pytest.raises(ss.SoundSourceError, match="no strip named 'nope'"):
        ss.chosen_strip(scene, "nope")


def test_relative_and_packed_sounds_are_read(ext, empty_scene, tmp_path, bpy_module):
    from bake_helpers import RATE, add_sound_strip, write_wav

    ss = ext.operators.services.sound_source
    bpy = bpy_module
    scene = empty_scene
    wav = write_wav(tmp_path / "voice.wav", np.full(RATE, 0.25))
    strip = add_sound_strip(scene, wav, 1)
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "shot.blend"))
    strip.sound.filepath = "//voice.wav"  # relative to the saved .blend
    assert ss.read_strip_audio(scene, strip).samples[100] == pytest.approx(0.25)
    strip.sound.pack()
    wav.unlink()
    audio = ss.read_strip_audio(scene, strip)
    assert audio.samples[100] == pytest.approx(0.25)


def test_missing_and_corrupt_strip_files_name_the_strip(ext, empty_scene, tmp_path):
    from bake_helpers import RATE, add_sound_strip, write_wav

    ss = ext.operators.services.sound_source
    scene = empty_scene
    wav = write_wav(tmp_path / "voice.wav", np.full(RATE, 0.25))
    strip = add_sound_strip(scene, wav, 1)
    wav.unlink()
    with pytest.raises(ss.SoundSourceError, match=r"sound strip 'voice'.*does not exist"):
        ss.read_strip_audio(scene, strip)
    wav.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage" * 10)
    with pytest.raises(ss.SoundSourceError, match=r"sound strip 'voice'.*(damaged|not a readable)"):
        ss.read_strip_audio(scene, strip)


def test_audio_file_source_starts_on_the_scene_start(ext, empty_scene, tmp_path):
    from bake_helpers import RATE, write_wav

    ss = ext.operators.services.sound_source
    scene = empty_scene
    scene.frame_start = 7
    scene.render.fps, scene.render.fps_base = 24, 1.0
    wav = write_wav(tmp_path / "voice.wav", np.full(RATE + 10, 0.25))
    audio = ss.read_file_audio(scene, str(wav))
    assert (audio.start_frame, audio.frame_count) == (7, 25)  # 1.000625 s at 24 fps -> 25 frames
    with pytest.raises(ss.SoundSourceError, match="does not exist"):
        ss.read_file_audio(scene, str(tmp_path / "nothing.wav"))
    with pytest.raises(ss.SoundSourceError, match="No audio file chosen"):
        ss.read_file_audio(scene, "  ")


def test_truncated_files_decode_with_a_warning(ext, empty_scene, tmp_path):
    from bake_helpers import RATE, add_sound_strip, write_wav

    ss = ext.operators.services.sound_source
    scene = empty_scene
    whole = write_wav(tmp_path / "whole.wav", np.full(2 * RATE, 0.25))
    assert ss.read_file_audio(scene, str(whole)).warnings == ()
    data = whole.read_bytes()
    cut = tmp_path / "voice.wav"
    cut.write_bytes(data[: len(data) // 2 + 1000])
    audio = ss.read_file_audio(scene, str(cut))
    assert len(audio.warnings) == 1
    assert "'voice.wav' is truncated" in audio.warnings[0] and "of the 2.00 s" in audio.warnings[0]
    strip = add_sound_strip(scene, cut, 1)
    assert "'voice.wav' is truncated" in ss.read_strip_audio(scene, strip).warnings[0]
