/* In-app QR viewfinder: camera frames (getUserMedia) drawn to a canvas and read by jsQR.
 *
 * jsQR (npm "jsqr", pure JavaScript, no WebAssembly, no network) is bundled into the app at
 * build time, so scanning works with the network cut off. It is a file of its own, not part of
 * the scan page's code (it was most of it): the page paints and answers without it. It is asked
 * for once the page is idle (the browser and the service worker then keep it, for a camera
 * started later without signal), and at the latest when the camera starts. The camera runs
 * only while `active` is true; the first QR read stops it and is handed to `onDecode` (nothing
 * is kept here). While inactive, the children (e.g. a "use camera" button) are shown instead.
 * `onCameraError` gets "unavailable" (no camera or not a secure page) or "denied". */
import { useEffect, useRef } from "react";

let jsQRLoading = null;
/** jsQR's decoder, loaded once; a failed load is asked for again at the next call. The
 * package is CommonJS with an ES-module default: unwrap whatever the bundler gave us. */
function loadJsQR() {
  jsQRLoading ??= import("jsqr").then(
    (module) => {
      let found = module;
      while (found && typeof found !== "function" && found.default) found = found.default;
      return found;
    },
    (err) => {
      jsQRLoading = null;
      throw err;
    },
  );
  return jsQRLoading;
}

const SCAN_EVERY_MS = 120;
const MAX_SIDE = 720; // pixels: enough for a card held 10-30 cm away, cheap on old phones

const fill = { position: "absolute", inset: 0, width: "100%", height: "100%" };
const aim = {
  position: "absolute",
  inset: "18%",
  border: "3px solid rgba(255,255,255,0.9)",
  borderRadius: "16px",
  boxShadow: "0 0 0 2000px rgba(0,0,0,0.25)",
  pointerEvents: "none",
};

export function DhQrScanner({ active, onDecode, onCameraError, children, ...rest }) {
  const videoRef = useRef(null);
  const canvasRef = useRef(null);
  const onDecodeRef = useRef(onDecode);
  const onErrorRef = useRef(onCameraError);
  onDecodeRef.current = onDecode;
  onErrorRef.current = onCameraError;

  useEffect(() => {
    const idle = window.requestIdleCallback || ((fn) => setTimeout(fn, 1));
    const cancel = window.cancelIdleCallback || clearTimeout;
    const id = idle(() => { loadJsQR().catch(() => undefined); });
    return () => cancel(id);
  }, []);

  useEffect(() => {
    if (!active) return undefined;
    let jsQR = null;
    let stream = null;
    let timer = null;
    let stopped = false;
    const report = (reason) => {
      if (!stopped && onErrorRef.current) onErrorRef.current(reason);
    };
    const stop = () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (stream) stream.getTracks().forEach((track) => track.stop());
      stream = null;
      if (videoRef.current) videoRef.current.srcObject = null;
    };
    const tick = () => {
      if (stopped) return;
      const video = videoRef.current;
      const canvas = canvasRef.current;
      if (video && canvas && video.readyState >= 2 && video.videoWidth > 0) {
        const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
        const w = Math.round(video.videoWidth * scale);
        const h = Math.round(video.videoHeight * scale);
        if (canvas.width !== w) canvas.width = w;
        if (canvas.height !== h) canvas.height = h;
        const ctx = canvas.getContext("2d", { willReadFrequently: true });
        ctx.drawImage(video, 0, 0, w, h);
        const image = ctx.getImageData(0, 0, w, h);
        const code = jsQR(image.data, w, h, { inversionAttempts: "attemptBoth" });
        if (code && code.data) {
          stop();
          if (onDecodeRef.current) onDecodeRef.current(code.data);
          return;
        }
      }
      timer = setTimeout(tick, SCAN_EVERY_MS);
    };
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      report("unavailable");
      return stop;
    }
    loadJsQR()
      .then((decode) => {
        jsQR = decode;
        return navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
      })
      .then((media) => {
        if (stopped) {
          media.getTracks().forEach((track) => track.stop());
          return;
        }
        stream = media;
        const video = videoRef.current;
        video.srcObject = media;
        return video
          .play()
          .catch(() => undefined)
          .then(tick);
      })
      .catch((err) => {
        const name = err && err.name;
        report(name === "NotAllowedError" || name === "SecurityError" ? "denied" : "unavailable");
      });
    return stop;
  }, [active]);

  return (
    <div {...rest}>
      <video
        ref={videoRef}
        muted
        playsInline
        autoPlay
        aria-hidden="true"
        style={{ ...fill, objectFit: "cover", display: active ? "block" : "none" }}
      />
      <canvas ref={canvasRef} style={{ display: "none" }} />
      {active ? <div aria-hidden="true" style={aim} /> : children}
    </div>
  );
}
