"""Writes nyu-labeled-tiny.mat: a miniature of nyu_depth_v2_labeled.mat in the same on-disk form.

MATLAB v7.3 files are HDF5 files with a 512-byte user block holding the MATLAB header text. MATLAB stores an
H x W x 3 x N array column-major, which HDF5 (row-major) sees as [N, 3, W, H]; depths H x W x N as [N, W, H].
Values follow closed-form patterns so the tests can check the transpose pixel by pixel:
  image(y, x, c, n) = (7*y + 3*x + 50*c + 11*n) % 256      (0-based indices, uint8)
  depth(y, x, n)    = 0.5 + 0.25*y + 0.125*x + n            (metres, float32)
Run once with python3-h5py (Debian) from this folder: /usr/bin/python3 make-nyu-labeled-fixture.py
"""
import h5py
import numpy as np

N, H, W = 3, 6, 8
images = np.zeros((N, 3, W, H), dtype=np.uint8)
depths = np.zeros((N, W, H), dtype=np.float32)
for n in range(N):
    for y in range(H):
        for x in range(W):
            for c in range(3):
                images[n, c, x, y] = (7 * y + 3 * x + 50 * c + 11 * n) % 256
            depths[n, x, y] = 0.5 + 0.25 * y + 0.125 * x + n

path = "nyu-labeled-tiny.mat"
with h5py.File(path, "w", userblock_size=512, libver="earliest") as f:
    d = f.create_dataset("images", data=images, chunks=(1, 3, W, H), compression="gzip")
    d.attrs["MATLAB_class"] = np.bytes_("uint8")
    d = f.create_dataset("depths", data=depths, chunks=(1, W, H), compression="gzip")
    d.attrs["MATLAB_class"] = np.bytes_("single")

header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
block = header.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"
with open(path, "r+b") as f:
    f.write(block.ljust(512, b"\x00"))
print(path, "written")
