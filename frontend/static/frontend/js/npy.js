// Reading a NumPy .npy file of float32 values (what the weights job writes as norms.npy).

/** {shape, values: Float32Array} from the bytes of a C-ordered little-endian float32 .npy. */
export function parseNpy(buffer) {
  const bytes = new Uint8Array(buffer);
  const magic = String.fromCharCode(...bytes.slice(1, 6));
  if (bytes[0] !== 0x93 || magic !== "NUMPY") throw new Error("Not a NumPy file.");
  const view = new DataView(buffer);
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder("latin1").decode(bytes.slice(start, start + headerLength));
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) {
    throw new Error(`Unsupported array: ${header.trim()}`);
  }
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(",").filter((n) => n.trim()).map(Number);
  const count = shape.reduce((total, n) => total * n, 1);
  return { shape, values: new Float32Array(buffer.slice(start + headerLength), 0, count) };
}
