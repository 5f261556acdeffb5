// The practice page: record with MediaRecorder (the chosen microphone, a timer against the
// target with the cues of `speechcoach record`, a level meter, a silence warning), upload files
// (picker or drag and drop), and follow each analysis until its report is ready.
(function () {
  "use strict";
  var L = JSON.parse(document.getElementById("labels").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var settings = $("settings");
  var langQ = settings.dataset.langQ || "";
  var BLOCK_MS = 100;            // level meter and silence check, ten times a second
  var SILENT_PEAK_DBFS = -60;    // record.SILENT_PEAK_DBFS
  var SILENCE_WARN_S = 5;        // record.SILENCE_WARN_S
  var OVERTIME_S = 30;           // record.OVERTIME_S
  var POLL_MS = 1000;

  function t(key, values) {
    return (L[key] || key).replace(/\{(\w+)\}/g, function (_, k) { return values && k in values ? values[k] : ""; });
  }
  function clock(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }
  function targetSeconds() {
    var text = $("target").value.trim();
    var m = /^(\d+):(\d{1,2})$/.exec(text) || null;
    if (m) return parseInt(m[1], 10) * 60 + parseInt(m[2], 10);
    m = /^(?:(\d+(?:\.\d+)?)\s*m)?\s*(?:(\d+(?:\.\d+)?)\s*s?)?$/i.exec(text);
    if (m && (m[1] || m[2])) return parseFloat(m[1] || 0) * 60 + parseFloat(m[2] || 0);
    return parseFloat(settings.dataset.targetS);
  }
  function say(text, cls) {
    var p = document.createElement("p");
    p.textContent = text;
    if (cls) p.className = cls;
    $("cues").appendChild(p);
  }

  // ---------------------------------------------------------------- microphones
  function listMicrophones() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
    navigator.mediaDevices.enumerateDevices().then(function (devices) {
      var select = $("mic"), chosen = select.value;
      while (select.options.length > 1) select.remove(1);
      devices.filter(function (d) { return d.kind === "audioinput" && d.deviceId && d.deviceId !== "default"; })
        .forEach(function (d, i) {
          var o = document.createElement("option");
          o.value = d.deviceId;
          o.textContent = d.label || (L.microphone + " " + (i + 1));
          select.appendChild(o);
        });
      select.value = chosen;
    });
  }
  listMicrophones();

  // ---------------------------------------------------------------- recording
  var rec = null;

  function startRecording() {
    $("cues").textContent = "";
    if (!navigator.mediaDevices || !window.MediaRecorder) { say(L.mic_missing, "error"); return; }
    var device = $("mic").value;
    var constraints = { audio: device ? { deviceId: { exact: device } } : true };
    $("record").disabled = true;
    navigator.mediaDevices.getUserMedia(constraints).then(function (stream) {
      listMicrophones();
      var types = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4"];
      var type = types.filter(function (x) { return MediaRecorder.isTypeSupported(x); })[0];
      var recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
      var chunks = [];
      recorder.ondataavailable = function (e) { if (e.data && e.data.size) chunks.push(e.data); };
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      var source = ctx.createMediaStreamSource(stream);
      var analyser = ctx.createAnalyser();
      analyser.fftSize = 2048;
      source.connect(analyser);
      var track = stream.getAudioTracks()[0];
      rec = {
        stream: stream, recorder: recorder, chunks: chunks, ctx: ctx, analyser: analyser,
        buf: new Float32Array(analyser.fftSize), started: performance.now(), target: targetSeconds(),
        silentFor: 0, warned: false, cued: {}, device: (track && track.label) || L.microphone_default,
        type: recorder.mimeType || type || "audio/webm",
      };
      recorder.onstop = finishRecording;
      recorder.start(1000);
      rec.timer = setInterval(tick, BLOCK_MS);
      $("stop").disabled = false;
      $("stop").focus();
      say(L.recording_now);
    }).catch(function (err) {
      $("record").disabled = false;
      say(err && err.name === "NotAllowedError" ? L.mic_denied : L.mic_missing + " (" + (err && err.message) + ")", "error");
    });
  }

  function tick() {
    var elapsed = (performance.now() - rec.started) / 1000;
    var over = elapsed - rec.target;
    $("timer").textContent = clock(elapsed) + " / " + clock(rec.target) + (over >= 1 ? "  (+" + clock(over) + ")" : "");
    $("timer").classList.toggle("over", over >= 0);
    rec.analyser.getFloatTimeDomainData(rec.buf);
    var sum = 0, peak = 0;
    for (var i = 0; i < rec.buf.length; i++) { var v = rec.buf[i]; sum += v * v; peak = Math.max(peak, Math.abs(v)); }
    var rmsDb = 20 * Math.log10(Math.sqrt(sum / rec.buf.length) || 1e-6);
    var peakDb = 20 * Math.log10(peak || 1e-6);
    var meter = $("level");
    meter.value = Math.max(-60, rmsDb);
    meter.textContent = Math.round(rmsDb) + " dBFS";
    if (!rec.cued.target && elapsed >= rec.target) { rec.cued.target = true; say(t("cue_target", { target: clock(rec.target) }), "warn"); }
    if (!rec.cued.over && elapsed >= rec.target + OVERTIME_S) { rec.cued.over = true; say(t("cue_overtime", { elapsed: clock(elapsed) }), "error"); }
    if (peakDb < SILENT_PEAK_DBFS) {
      rec.silentFor += BLOCK_MS / 1000;
      if (rec.silentFor >= SILENCE_WARN_S && !rec.warned) {
        rec.warned = true;
        say(t("cue_silent", { device: rec.device, seconds: Math.round(rec.silentFor) }), "error");
      }
    } else {
      rec.silentFor = 0;
      if (rec.warned) { rec.warned = false; say(L.cue_sound); }
    }
  }

  function stopRecording() {
    if (!rec) return;
    $("stop").disabled = true;
    clearInterval(rec.timer);
    rec.recorder.stop();
  }

  function finishRecording() {
    var r = rec;
    rec = null;
    r.stream.getTracks().forEach(function (tr) { tr.stop(); });
    r.ctx.close();
    $("record").disabled = false;
    $("level").value = -60;
    var blob = new Blob(r.chunks, { type: r.type });
    var ext = r.type.indexOf("mp4") >= 0 ? "m4a" : r.type.indexOf("ogg") >= 0 ? "ogg" : "webm";
    var name = t("recording_name", { time: new Date().toLocaleTimeString() });
    enqueue([{ file: blob, filename: "recording." + ext, name: name, kind: "recording", open: true }]);
    // Stop is disabled now: keep keyboard focus on what happens next (the upload's status).
    var state = $("jobs").lastElementChild.querySelector(".state");
    state.tabIndex = -1;
    state.focus();
  }

  $("record").addEventListener("click", startRecording);
  $("stop").addEventListener("click", stopRecording);

  // ---------------------------------------------------------------- uploads and jobs
  var pending = [];
  var uploading = false;
  var polling = 0;  // analyses this window still waits for

  function active() { return polling > 0; }

  // Leaving the page while recording or uploading would lose that recording.
  window.addEventListener("beforeunload", function (e) {
    if (rec || uploading || pending.length) { e.preventDefault(); e.returnValue = ""; }
  });

  function enqueue(items) {
    items.forEach(function (item) {
      item.row = addRow(item.name);
      pending.push(item);
    });
    next();
  }

  function addRow(name) {
    $("queue-empty").hidden = true;
    var li = document.createElement("li");
    var title = document.createElement("div");
    title.className = "name";
    title.textContent = name;
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", name);
    var state = document.createElement("div");
    state.className = "state";
    state.setAttribute("role", "status");
    state.textContent = L.state_queued;
    li.appendChild(title); li.appendChild(bar); li.appendChild(state);
    $("jobs").appendChild(li);
    return { li: li, bar: bar, state: state };
  }

  function next() {
    if (uploading || !pending.length) return;
    uploading = true;
    var item = pending.shift();
    var form = new FormData();
    form.append("audio", item.file, item.filename);
    ["label", "target", "language"].forEach(function (k) { if ($(k).value.trim()) form.append(k, $(k).value.trim()); });
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/jobs?kind=" + item.kind);
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) {
        item.row.bar.value = Math.round(100 * e.loaded / e.total);
        item.row.state.textContent = L.state_uploading + " " + item.row.bar.value + " %";
      }
    };
    xhr.onload = function () {
      uploading = false;
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = { error: xhr.statusText }; }
      if (xhr.status === 202) { item.row.bar.removeAttribute("value"); show(item, body); polling++; poll(item, body.id); }
      else fail(item, body.error || xhr.statusText);
      next();
    };
    xhr.onerror = function () { uploading = false; fail(item, L.state_error); next(); };
    item.row.state.textContent = L.state_uploading;
    xhr.send(form);
  }

  function show(item, job) {
    var text = L["state_" + job.state] || job.state;
    if (job.eta_s !== null && job.eta_s !== undefined && job.state !== "done") text += " · " + t("time_left", { time: clock(Math.ceil(job.eta_s)) });
    item.row.state.textContent = text;
  }

  function fail(item, message) {
    item.row.bar.value = 0;
    item.row.bar.hidden = true;
    item.row.state.textContent = L.state_error + ": " + message;
    item.row.state.className = "state error";
  }

  function poll(item, id) {
    fetch("/api/jobs/" + encodeURIComponent(id)).then(function (r) { return r.json(); }).then(function (job) {
      if (job.error && job.state !== "error") { polling--; fail(item, job.error); return; }
      show(item, job);
      if (job.state === "done" || job.state === "error") polling--;
      if (job.state === "done") {
        item.row.bar.max = 1; item.row.bar.value = 1;
        var a = document.createElement("a");
        a.href = job.report + langQ;
        a.textContent = L.open_report + " #" + job.attempt_id;
        item.row.li.appendChild(a);
        // A recording opens its report by itself, unless other files are still on their way.
        if (item.open && !uploading && !pending.length && !active()) window.location.href = a.href;
      } else if (job.state === "error") {
        fail(item, job.error);
      } else {
        setTimeout(function () { poll(item, id); }, POLL_MS);
      }
    }).catch(function () { setTimeout(function () { poll(item, id); }, POLL_MS * 3); });
  }

  function addFiles(files) {
    enqueue(Array.prototype.map.call(files, function (f) {
      return { file: f, filename: f.name, name: f.name, kind: "upload", open: false };
    }));
  }

  $("files").addEventListener("change", function () { addFiles(this.files); this.value = ""; });
  var drop = $("drop");
  ["dragenter", "dragover"].forEach(function (ev) {
    drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (ev) {
    drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) { if (e.dataTransfer && e.dataTransfer.files.length) addFiles(e.dataTransfer.files); });
  // A file dropped anywhere else on the page must not make the browser leave it.
  window.addEventListener("dragover", function (e) { e.preventDefault(); });
  window.addEventListener("drop", function (e) { e.preventDefault(); });
})();
