// Where the phone is (navigator.geolocation) and how far that is from a home: great-circle metres, computed on the
// phone so a check-in far from the home is flagged at once, offline too (the server records its own figure).
const EARTH_RADIUS_M = 6_371_000;

export function distanceM(lat1, lon1, lat2, lon2) {
  if ([lat1, lon1, lat2, lon2].some((value) => value === null || value === undefined || Number.isNaN(Number(value)))) {
    return null;
  }
  const rad = (deg) => (Number(deg) * Math.PI) / 180;
  const dLat = rad(lat2 - lat1);
  const dLon = rad(lon2 - lon1);
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

// The phone's position: resolves { latitude, longitude, accuracy } or rejects with an Error whose `reason` is a
// short code (denied, unavailable, timeout, unsupported).
export function here({ timeoutMs = 15_000 } = {}) {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) {
      reject(Object.assign(new Error("unsupported"), { reason: "unsupported" }));
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (position) => resolve({
        latitude: position.coords.latitude,
        longitude: position.coords.longitude,
        accuracy: position.coords.accuracy,
      }),
      (error) => reject(Object.assign(new Error(error.message), {
        reason: { 1: "denied", 2: "unavailable", 3: "timeout" }[error.code] || "unavailable",
      })),
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 30_000 },
    );
  });
}
