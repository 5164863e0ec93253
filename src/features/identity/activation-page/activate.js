// Fills the form from the link's fragment (never sent to the server, so the token stays out of access logs),
// then posts to the activation route and says what happened.
const params = new URLSearchParams(location.hash.slice(1));
const form = document.getElementById('activate');
const result = document.getElementById('result');
for (const name of ['tenant', 'token']) if (params.get(name)) document.getElementById(name).value = params.get(name);
history.replaceState(null, '', location.pathname);

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const value = (id) => document.getElementById(id).value;
  if (value('password') !== value('repeat')) {
    result.textContent = 'The two passwords differ.';
    return;
  }
  result.textContent = 'Activating...';
  const response = await fetch('/api/v1/auth/activate', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenant: value('tenant'), token: value('token'), password: value('password') }),
  });
  const body = await response.json().catch(() => ({}));
  if (response.ok) {
    form.hidden = true;
    result.textContent = `Your account ${body.user.username} is active. Sign in with it and your new password.`;
  } else {
    result.textContent = body.error ? body.error.message : 'Activation failed; try again.';
  }
});
