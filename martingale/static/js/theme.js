// Colours for what CSS cannot paint (charts, animations): read from app.css's custom properties,
// the one place they are set.
const style = getComputedStyle(document.documentElement);

/** The value of --name, e.g. color("accent") -> "#4c9dff". */
export function color(name) {
  return style.getPropertyValue(`--${name}`).trim();
}

/** A hex colour at an opacity, as rgba() (a canvas takes no color-mix). */
export function alpha(hex, opacity) {
  const digits = hex.replace("#", "");
  const full = digits.length === 3 ? [...digits].map((d) => d + d).join("") : digits.slice(0, 6);
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16));
  return `rgba(${r},${g},${b},${opacity})`;
}
