"""Pitch (yin), mel spectrogram and frame RMS in numpy: librosa 0.11's steps, not its import.

librosa's functions live behind one package import that loads scipy.signal, scipy.stats and
numba: about 200 MB and 1-3 s of CPU on every cold `speechcoach analyze`, more than these
computations themselves take on a 3-minute intro (issue 11 item 8). The delivery needs only
`librosa.yin`, `librosa.feature.melspectrogram`, `librosa.power_to_db` and `librosa.feature.rms`
with fixed settings, so they are written here step by step as librosa computes them (the same
framing, padding, FFT library and sizes, dtypes and order of operations).
tests/test_acoustics.py checks that they give librosa's values exactly.
"""

from __future__ import annotations

from functools import cache

import numpy as np

YIN_TROUGH = 0.1  # librosa.yin's default trough threshold
MEL_BANDS = 128  # librosa.feature.melspectrogram's default
TOP_DB = 80.0  # librosa.power_to_db's default dynamic range
AMIN = 1e-10  # librosa.power_to_db's default floor (power)


def frame(y: np.ndarray, length: int, hop: int) -> np.ndarray:
    """Frames of `y` as a (length, n_frames) view, as librosa.util.frame lays them out."""
    windows = np.lib.stride_tricks.as_strided(
        y, shape=(len(y) - length + 1, length), strides=(y.strides[0], y.strides[0])
    )
    return np.moveaxis(windows, -1, -2)[:, ::hop]


def yin(
    y: np.ndarray, *, fmin: float, fmax: float, sr: int, frame_length: int, hop: int, center=True
) -> np.ndarray:
    """librosa.yin(y, fmin=, fmax=, sr=, frame_length=, hop_length=, center=) with its other
    defaults (zero padding, trough threshold 0.1): f0 in Hz per frame (float64)."""
    frames = frame(_centred(y, frame_length, center), frame_length, hop)
    min_period = int(np.floor(sr / fmax))
    max_period = min(int(np.ceil(sr / fmin)), frame_length - 1)
    d = _cumulative_mean_normalized_difference(frames, min_period, max_period)
    shifts = _parabolic_shifts(d)
    trough = _local_minima(d)
    trough[0] = d[0] < d[1]
    below = trough & (d < YIN_TROUGH)
    global_min = np.argmin(d, axis=0)[np.newaxis]
    period = np.argmax(below, axis=0)[np.newaxis]
    none_below = np.all(~below, axis=0, keepdims=True)
    period[none_below] = global_min[none_below]
    refined = (min_period + period + np.take_along_axis(shifts, period, axis=0))[0]
    return sr / refined


def _cumulative_mean_normalized_difference(
    frames: np.ndarray, min_period: int, max_period: int
) -> np.ndarray:
    """Equation 8 of de Cheveigné and Kawahara (2002), as librosa computes it."""
    acf = _autocorrelate(frames, max_period + 1)
    energy = np.square(frames)
    np.cumsum(energy, out=energy, axis=0)
    lags = slice(1, max_period + 1)
    energy[0] = 0
    energy[lags] = 2 * (acf[0:1] - acf[lags]) - energy[: lags.stop - 1]
    numerator = energy[min_period : max_period + 1]
    k_range = np.r_[lags][:, np.newaxis]
    cumulative_mean = np.cumsum(energy[lags], axis=0) / k_range
    denominator = cumulative_mean[min_period - 1 : max_period]
    return numerator / (denominator + np.finfo(denominator.dtype).tiny)


def _autocorrelate(frames: np.ndarray, max_size: int) -> np.ndarray:
    """Autocorrelation of each frame (axis 0) up to `max_size` lags, by FFT."""
    from scipy import fft  # librosa's FFT library (pocketfft): ~20 MB, not scipy.signal's 200

    n_fft = fft.next_fast_len(2 * frames.shape[0] - 1, real=True)
    spectrum = fft.rfft(frames, n=n_fft, axis=0)
    power = spectrum.real**2 + spectrum.imag**2
    return fft.irfft(power, n=n_fft, axis=0)[: min(max_size, frames.shape[0])]


def _parabolic_shifts(d: np.ndarray) -> np.ndarray:
    """Offset of the parabola's optimum through each point and its neighbours (axis 0); 0 at
    the edges and where it would move more than one bin. librosa's numba stencil computes
    `a` and `b` in float64 (an integer constant meets float32), so this does too."""
    out = np.zeros_like(d)
    left, mid, right = d[:-2], d[1:-1], d[2:]
    a = (right + left).astype(np.float64) - 2 * mid.astype(np.float64)
    b = (right - left).astype(np.float64) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(b) >= np.abs(a), 0.0, -b / a)
    out[1:-1] = shift
    return out


def _local_minima(x: np.ndarray) -> np.ndarray:
    """librosa.util.localmin along axis 0: x[i] < x[i-1] and x[i] <= x[i+1]; the last element
    is a minimum when below its neighbour, the first never (the caller sets it)."""
    out = np.zeros(x.shape, dtype=bool)
    out[1:-1] = (x[1:-1] < x[:-2]) & (x[1:-1] <= x[2:])
    out[-1] = x[-1] < x[-2]
    return out


def rms(y: np.ndarray, *, frame_length: int, hop: int, center: bool = True) -> np.ndarray:
    """librosa.feature.rms(y=y, frame_length=, hop_length=, center=)[0] (zero padding)."""
    frames = frame(_centred(y, frame_length, center), frame_length, hop)
    return np.sqrt(np.mean(np.square(frames, dtype=np.float32), axis=-2))


def melspectrogram(
    y: np.ndarray, *, sr: int, n_fft: int, hop: int, center: bool = True
) -> np.ndarray:
    """librosa.feature.melspectrogram(y=y, sr=, n_fft=, hop_length=, center=) with its defaults
    (hann window, zero padding, power 2, 128 Slaney mel bands): (MEL_BANDS, n_frames) float32.
    It holds the spectrum of all of `y` at once, as librosa does: give it blocks of a long file."""
    from scipy import fft  # librosa's FFT library (pocketfft)

    frames = frame(_centred(y, n_fft, center), n_fft, hop)
    spectrum = fft.rfft(_hann(n_fft)[:, np.newaxis] * frames, axis=0).astype(np.complex64)
    power = np.abs(spectrum) ** 2.0
    return np.einsum("ft,mf->mt", power, _mel_basis(sr, n_fft), optimize=True)


def power_to_db(power: np.ndarray, top_db: float | None = TOP_DB) -> np.ndarray:
    """librosa.power_to_db(power, top_db=) with ref 1 and amin 1e-10."""
    db = 10.0 * np.log10(np.maximum(AMIN, power))
    db -= 10.0 * np.log10(np.maximum(AMIN, 1.0))
    return db if top_db is None else np.maximum(db, db.max() - top_db)


def _centred(y: np.ndarray, frame_length: int, center: bool) -> np.ndarray:
    return np.pad(y, frame_length // 2) if center else y


@cache
def _hann(n: int) -> np.ndarray:
    """The periodic Hann window, as scipy.signal.get_window('hann', n, fftbins=True)."""
    fac = np.linspace(-np.pi, np.pi, n + 1)[:-1]
    w = np.zeros(n)
    for k, a in enumerate((0.5, 0.5)):
        w += a * np.cos(k * fac)
    return w


@cache
def _mel_basis(sr: int, n_fft: int) -> np.ndarray:
    """librosa.filters.mel(sr=sr, n_fft=n_fft): 128 Slaney-scale, Slaney-normalised bands."""
    fft_freqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    mels = np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2.0), MEL_BANDS + 2)
    mel_f = _mel_to_hz(mels)
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fft_freqs)
    weights = np.zeros((MEL_BANDS, 1 + n_fft // 2), dtype=np.float32)
    for i in range(MEL_BANDS):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : MEL_BANDS + 2] - mel_f[:MEL_BANDS]))[:, np.newaxis]
    return weights


# The Slaney mel scale: linear below 1 kHz, logarithmic above.
_MEL_STEP_HZ = 200.0 / 3
_LOG_FROM_HZ = 1000.0
_LOG_FROM_MEL = _LOG_FROM_HZ / _MEL_STEP_HZ
_LOG_STEP = np.log(6.4) / 27.0


def _hz_to_mel(hz: float) -> float:
    if hz >= _LOG_FROM_HZ:
        return _LOG_FROM_MEL + np.log(hz / _LOG_FROM_HZ) / _LOG_STEP
    return hz / _MEL_STEP_HZ


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    hz = 0.0 + _MEL_STEP_HZ * mels
    log = mels >= _LOG_FROM_MEL
    hz[log] = _LOG_FROM_HZ * np.exp(_LOG_STEP * (mels[log] - _LOG_FROM_MEL))
    return hz
