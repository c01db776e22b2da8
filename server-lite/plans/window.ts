// Maintenance windows for plan rollouts (pure): `--window "Sat 01:00-05:00"`, in the node's own
// clock (its UTC offset, reported by the node agent). Days: one (`Sat`), a list (`Sat,Sun`), a range
// (`Mon-Fri`) or none (every day). A window whose end is before its start runs past midnight and
// belongs to the day it starts on ("Fri 22:00-02:00" includes Saturday 01:30).

export interface MaintenanceWindow {
  /** 0 = Sunday … 6 = Saturday. */
  days: number[];
  startMinute: number;
  endMinute: number;
  text: string;
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export class WindowInvalid extends Error {}

function day(text: string, spec: string): number {
  const i = DAYS.indexOf(text.slice(0, 3).toLowerCase());
  if (i < 0 || text.length < 3) throw new WindowInvalid(`--window "${spec}": "${text}" is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)`);
  return i;
}

function minute(text: string, spec: string): number {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (!m) throw new WindowInvalid(`--window "${spec}": "${text}" is not a time like 01:00`);
  return Number(m[1]) * 60 + Number(m[2]);
}

export function parseWindow(spec: string): MaintenanceWindow {
  const parts = spec.trim().split(/\s+/);
  if (parts.length < 1 || parts.length > 2 || parts[0] === '') throw new WindowInvalid(`--window "${spec}": expected [DAYS] HH:MM-HH:MM, like "Sat 01:00-05:00" or "Mon-Fri 22:00-04:00"`);
  const range = parts[parts.length - 1] ?? '';
  const [from, to, ...rest] = range.split('-');
  if (from === undefined || to === undefined || rest.length > 0) throw new WindowInvalid(`--window "${spec}": "${range}" is not a time range like 01:00-05:00`);
  const startMinute = minute(from, spec);
  const endMinute = minute(to, spec);
  if (startMinute === endMinute) throw new WindowInvalid(`--window "${spec}": the window is empty`);
  let days = [0, 1, 2, 3, 4, 5, 6];
  if (parts.length === 2) {
    days = [];
    for (const item of (parts[0] ?? '').split(',')) {
      const [a, b, ...more] = item.split('-');
      if (more.length > 0 || a === undefined) throw new WindowInvalid(`--window "${spec}": "${item}" is not a day or a day range`);
      const s = day(a, spec);
      const e = b === undefined ? s : day(b, spec);
      for (let d = s; ; d = (d + 1) % 7) {
        if (!days.includes(d)) days.push(d);
        if (d === e) break;
      }
    }
  }
  return { days: days.sort(), startMinute, endMinute, text: spec.trim() };
}

/** Whether `nowMs` falls in the window on a node whose clock is UTC + `utcOffsetMinutes`. */
export function inWindow(w: MaintenanceWindow, nowMs: number, utcOffsetMinutes: number): boolean {
  const local = new Date(nowMs + utcOffsetMinutes * 60_000);
  const dow = local.getUTCDay();
  const m = local.getUTCHours() * 60 + local.getUTCMinutes();
  if (w.startMinute < w.endMinute) return w.days.includes(dow) && m >= w.startMinute && m < w.endMinute;
  // Past midnight: the evening part on a listed day, or the morning part the day after one.
  return (w.days.includes(dow) && m >= w.startMinute) || (w.days.includes((dow + 6) % 7) && m < w.endMinute);
}
