// Photos of a visit are downscaled on the phone before they are queued: the longest side at most MAX_SIDE px,
// JPEG at QUALITY, drawn through a canvas (which also drops the camera's EXIF, GPS included). A phone photo of
// 3–5 MB becomes ~150–300 kB: quick to send on a weak signal and well under the server's limit.
const MAX_SIDE = 1280;
const QUALITY = 0.8;

export async function downscale(file) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d").drawImage(bitmap, 0, 0, width, height);
  bitmap.close?.();
  const blob = await new Promise((resolve, reject) => {
    canvas.toBlob((result) => (result ? resolve(result) : reject(new Error("encode failed"))), "image/jpeg", QUALITY);
  });
  return { blob, width, height, name: (file.name || "photo").replace(/\.\w+$/, "") + ".jpg" };
}
