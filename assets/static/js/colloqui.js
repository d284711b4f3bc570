// The video room of an online appointment (portal/colloqui.go): WebRTC between the participants' browsers, a
// full mesh of at most three people; the portal's WebSocket carries the signalling, the waiting room and the chat,
// and stores none of it. No framework, no third-party code.
(function () {
  'use strict';
  var root = document.getElementById('room');
  if (!root) return;
  var $ = function (id) { return document.getElementById(id); };
  var text = JSON.parse(root.dataset.text || '{}');
  var say = function (key, name) { return (text[key] || key).split('{name}').join(name || ''); };
  if (!window.RTCPeerConnection || !window.WebSocket || !navigator.mediaDevices) {
    return; // the <noscript>-like warning stays the only thing shown: the room is hidden
  }
  root.hidden = false;

  var ice = JSON.parse(root.dataset.ice || '[]');
  var role = root.dataset.role;
  var me = null;          // this connection's peer ID, from the server
  var admitted = false;
  var peers = {};         // peer ID → {id, name, role, admitted, muted, pc, tile, queue}
  var ws = null;
  var over = false;       // the room ended, was replaced, or the person hung up
  var retries = 0;
  var local = null;       // the camera and microphone stream, or null without devices
  var muted = {audio: false, video: false};
  var noMedia = false;    // the camera and microphone could not be used: said once, and kept said

  var status = $('room-status');
  var announce = function (msg) { status.textContent = msg; };

  // Camera and microphone, small enough for a phone's upload; without them the person still hears, sees and chats.
  var media = navigator.mediaDevices.getUserMedia({
    audio: true,
    video: {width: {ideal: 640}, height: {ideal: 360}, frameRate: {ideal: 15}}
  }).then(function (stream) {
    local = stream;
    $('room-local').srcObject = stream;
    return stream;
  }, function () {
    noMedia = true;
    announce(say('no_media'));
    $('room-mic').disabled = true;
    $('room-cam').disabled = true;
    return null;
  });

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  function roleName(r) { return say('role_' + r); }

  // --- the tiles: one per admitted participant -------------------------------------------------------------------

  function tileOf(p) {
    if (p.tile) return p.tile;
    var li = document.createElement('li');
    li.className = 'room-tile';
    li.dataset.peer = p.id;
    var video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.setAttribute('aria-label', p.name);
    var cap = document.createElement('p');
    cap.className = 'room-caption';
    var name = document.createElement('span');
    name.className = 'room-name';
    name.textContent = p.name + ' (' + roleName(p.role) + ')';
    var state = document.createElement('span');
    state.className = 'room-state';
    cap.appendChild(name);
    cap.appendChild(document.createTextNode(' '));
    cap.appendChild(state);
    li.appendChild(video);
    li.appendChild(cap);
    $('room-videos').appendChild(li);
    p.tile = li;
    return li;
  }

  function showState(p) {
    if (!p.tile) return;
    var parts = [];
    var s = p.pc ? p.pc.connectionState : 'new';
    p.tile.dataset.state = s;
    if (s === 'connected') parts.push(say('connected'));
    else if (s === 'failed') parts.push(say('failed'));
    else parts.push(say('connecting'));
    if (p.muted && p.muted.audio) parts.push(say('mic_off'));
    if (p.muted && p.muted.video) parts.push(say('cam_off'));
    p.tile.querySelector('.room-state').textContent = '· ' + parts.join(' · ');
  }

  function dropTile(p) {
    if (p.tile) p.tile.remove();
    p.tile = null;
  }

  // --- WebRTC: the lower peer ID offers, so two browsers never offer to each other at once -------------------

  function connect(p) {
    if (p.pc || !admitted || !p.admitted || over) return;
    var pc = new RTCPeerConnection({iceServers: ice});
    p.pc = pc;
    tileOf(p);
    showState(p);
    pc.onicecandidate = function (e) {
      if (e.candidate) send({type: 'signal', to: p.id, data: {candidate: e.candidate}});
    };
    pc.ontrack = function (e) {
      var v = tileOf(p).querySelector('video');
      if (v.srcObject !== e.streams[0]) v.srcObject = e.streams[0];
    };
    pc.onconnectionstatechange = function () { showState(p); };
    p.queue = media.then(function () {
      if (local) {
        local.getTracks().forEach(function (t) { pc.addTrack(t, local); });
      } else {
        pc.addTransceiver('audio', {direction: 'recvonly'});
        pc.addTransceiver('video', {direction: 'recvonly'});
      }
      if (me < p.id) {
        return pc.createOffer().then(function (o) { return pc.setLocalDescription(o); }).then(function () {
          send({type: 'signal', to: p.id, data: {sdp: pc.localDescription}});
        });
      }
    }).catch(report);
  }

  function onSignal(from, data) {
    var p = peers[from];
    if (!p || !data) return;
    connect(p);
    var pc = p.pc;
    if (!pc) return;
    p.queue = p.queue.then(function () {
      if (data.sdp && data.sdp.type === 'offer') {
        return pc.setRemoteDescription(data.sdp).then(function () { return pc.createAnswer(); })
          .then(function (a) { return pc.setLocalDescription(a); })
          .then(function () { send({type: 'signal', to: from, data: {sdp: pc.localDescription}}); });
      }
      if (data.sdp && data.sdp.type === 'answer') return pc.setRemoteDescription(data.sdp);
      if (data.candidate) return pc.addIceCandidate(data.candidate).catch(function () {});
    }).catch(report);
  }

  function hangUpPeer(p) {
    if (p.pc) p.pc.close();
    p.pc = null;
    dropTile(p);
  }

  function report(err) {
    if (window.console) console.warn('colloqui:', err && err.message ? err.message : err);
  }

  // --- who is in the room, and the waiting room ------------------------------------------------------------------

  // setPeer records what the server says of a participant; quiet for those already there when this page came in.
  function setPeer(f, quiet) {
    var p = peers[f.peer];
    var fresh = !p;
    if (fresh) p = peers[f.peer] = {id: f.peer, queue: Promise.resolve()};
    var wasIn = p.admitted;
    p.name = f.name;
    p.role = f.role;
    p.admitted = f.admitted;
    if (f.muted) p.muted = f.muted;
    if (admitted && p.admitted && !wasIn) {
      if (!quiet) announce(say('joined', p.name));
      connect(p);
    }
    if (role === 'worker' && !p.admitted && fresh) announce(say('waits', p.name));
    showState(p);
    render();
  }

  function removePeer(id) {
    var p = peers[id];
    if (!p) return;
    hangUpPeer(p);
    delete peers[id];
    if (admitted && p.admitted) announce(say('left', p.name));
    render();
  }

  function render() {
    var worker = null;
    var waiting = [];
    Object.keys(peers).forEach(function (id) {
      var p = peers[id];
      if (p.role === 'worker') worker = p;
      if (!p.admitted) waiting.push(p);
    });
    $('room-waiting').hidden = admitted || over;
    $('room-chat').hidden = !admitted || over;
    $('room-lobby').hidden = role !== 'worker' || over;
    $('room-over').hidden = !over;
    if (!admitted) {
      $('room-worker').textContent = worker ? say('worker_here', worker.name) : say('worker_away');
    }
    if (role === 'worker') {
      var list = $('room-lobby-list');
      list.textContent = '';
      waiting.forEach(function (p) {
        var li = document.createElement('li');
        li.appendChild(document.createTextNode(p.name + ' (' + roleName(p.role) + ') '));
        var b = document.createElement('button');
        b.type = 'button';
        b.className = 'btn btn-sm btn-primary';
        b.textContent = say('admit', p.name);
        b.addEventListener('click', function () {
          b.disabled = true;
          send({type: 'admit', to: p.id});
        });
        li.appendChild(b);
        list.appendChild(li);
      });
      $('room-lobby-empty').hidden = waiting.length > 0;
    }
  }

  // --- the WebSocket -----------------------------------------------------------------------------------------------

  function open() {
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + root.dataset.ws;
    ws = new WebSocket(url);
    ws.onmessage = function (e) {
      var m;
      try { m = JSON.parse(e.data); } catch (err) { return; }
      switch (m.type) {
        case 'welcome':
          retries = 0;
          me = m.you;
          admitted = m.admitted;
          root.dataset.admitted = String(admitted);
          status.textContent = noMedia ? say('no_media') : ''; // the "lost" of a reconnection is over
          m.peers.forEach(function (f) { setPeer(f, true); });
          render();
          if (local) send({type: 'media', muted: muted});
          break;
        case 'admitted':
          admitted = true;
          root.dataset.admitted = 'true';
          m.peers.forEach(function (f) { setPeer(f, true); });
          Object.keys(peers).forEach(function (id) { connect(peers[id]); }); // those known while waiting too
          render();
          announce(say('admitted'));
          if (local) send({type: 'media', muted: muted});
          break;
        case 'peer': setPeer(m); break;
        case 'leave': removePeer(m.peer); break;
        case 'signal': onSignal(m.from, m.data); break;
        case 'media':
          if (peers[m.peer]) { peers[m.peer].muted = m.muted; showState(peers[m.peer]); }
          break;
        case 'chat': addChat(m); break;
        case 'ended': finish(say('ended')); break;
        case 'replaced': finish(say('replaced')); break;
        case 'restart': break; // the node stops: reconnect below, through the load balancer
      }
    };
    ws.onclose = function () {
      ws = null;
      Object.keys(peers).forEach(function (id) { hangUpPeer(peers[id]); });
      peers = {};
      admitted = false;
      if (over) return;
      render();
      if (retries >= 6) { finish(say('lost')); return; }
      announce(say('lost'));
      setTimeout(open, 500 * Math.pow(2, retries++));
    };
  }

  function finish(msg) {
    over = true;
    if (ws) ws.close(1000);
    Object.keys(peers).forEach(function (id) { hangUpPeer(peers[id]); });
    peers = {};
    if (local) local.getTracks().forEach(function (t) { t.stop(); });
    $('room-local').srcObject = null;
    $('room-over-text').textContent = msg;
    $('room-videos').hidden = true;
    document.querySelector('.room-controls').hidden = true;
    render();
    announce(msg);
  }

  // --- chat and controls ---------------------------------------------------------------------------------------

  function addChat(m) {
    var line = document.createElement('p');
    var who = document.createElement('strong');
    who.textContent = (m.mine ? say('you') : m.name) + ' ';
    var at = document.createElement('span');
    at.className = 'room-chat-at';
    at.dir = 'ltr';
    at.textContent = m.at;
    var body = document.createElement('span');
    body.className = 'room-chat-text';
    body.textContent = m.text;
    line.appendChild(who);
    line.appendChild(at);
    line.appendChild(body);
    var log = $('room-chat-log');
    log.appendChild(line);
    log.scrollTop = log.scrollHeight;
  }

  $('room-chat-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var input = $('room-chat-text');
    var v = input.value.trim();
    if (!v) return;
    send({type: 'chat', text: v});
    input.value = '';
  });

  function toggle(button, kind) {
    button.addEventListener('click', function () {
      if (!local) return;
      var on = button.getAttribute('aria-pressed') !== 'true';
      (kind === 'audio' ? local.getAudioTracks() : local.getVideoTracks()).forEach(function (t) { t.enabled = on; });
      button.setAttribute('aria-pressed', String(on));
      muted[kind] = !on;
      var mine = [];
      if (muted.audio) mine.push(say('mic_off'));
      if (muted.video) mine.push(say('cam_off'));
      $('room-me-state').textContent = mine.length ? '· ' + mine.join(' · ') : '';
      send({type: 'media', muted: muted});
    });
  }
  toggle($('room-mic'), 'audio');
  toggle($('room-cam'), 'video');
  $('room-leave').addEventListener('click', function () { finish(say('hung_up')); });

  render();
  open();
})();
