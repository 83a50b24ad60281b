// The banner and the alarm sound.
import { $ } from "/ui/shared/dom.js";
import { errorText, fmt, t } from "/ui/shared/i18n.js";

let soundEnabled = localStorage.getItem("console.sound") === "on";
let audio = null;

export function beep(times = 3) {
  if (!soundEnabled) return;
  audio = audio || new AudioContext();
  for (let i = 0; i < times; i++) {
    const osc = audio.createOscillator(), gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.2;
    osc.connect(gain).connect(audio.destination);
    osc.start(audio.currentTime + i * 0.35);
    osc.stop(audio.currentTime + i * 0.35 + 0.2);
  }
}

let bannerTimer = null;
export function banner(text, kind = "alert") {
  const node = $("#banner");
  node.textContent = text;
  node.dataset.kind = kind;
  node.hidden = false;
  clearTimeout(bannerTimer);
  bannerTimer = setTimeout(() => { node.hidden = true; }, 8000);
}

// An error on the banner in the reader's language; `alarmId` names the alarm it concerns.
export function showError(error, alarmId = null) {
  banner(alarmId === null ? errorText(error) : fmt("alarmError", { id: alarmId, message: errorText(error) }), "error");
}

function updateSoundButton() { $("#sound").textContent = t(soundEnabled ? "soundOff" : "soundOn"); }

export function installSoundButton() {
  $("#sound").addEventListener("click", () => {
    soundEnabled = !soundEnabled;
    localStorage.setItem("console.sound", soundEnabled ? "on" : "off");
    updateSoundButton();
    if (soundEnabled) beep(1);
  });
  updateSoundButton();
}
