/* What an X client can do to the rest of the session: find another client's window by name, read its
 * pixels and the screen's, send it keys (XSendEvent), move the focus to it (where XTEST then types: code
 * outside, through a terminal window), grab the keyboard, and which input extensions it sees. Prints
 * "KEY ok" or "KEY refused". Argument: the victim window's name. Built by test/attack/shared-desktop.test.js. */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <stdio.h>
#include <string.h>

static int errors;
static int on_error(Display *d, XErrorEvent *e) { (void)d; (void)e; errors++; return 0; }

static Window find(Display *d, Window w, const char *name) {
  char *n = NULL;
  if (XFetchName(d, w, &n) && n) {
    int hit = strcmp(n, name) == 0;
    XFree(n);
    if (hit) return w;
  }
  Window root, parent, *kids = NULL;
  unsigned nk = 0;
  if (!XQueryTree(d, w, &root, &parent, &kids, &nk)) return 0;
  Window found = 0;
  for (unsigned i = 0; i < nk && !found; i++) found = find(d, kids[i], name);
  if (kids) XFree(kids);
  return found;
}

static void say(const char *key, int ok) { printf("%s %s\n", key, ok ? "ok" : "refused"); fflush(stdout); }

int main(int argc, char **argv) {
  Display *d = XOpenDisplay(NULL);
  if (!d) { puts("open refused"); return 1; }
  puts("open ok");
  XSetErrorHandler(on_error);
  Window root = DefaultRootWindow(d);
  Window v = find(d, root, argc > 1 ? argv[1] : "victim-terminal");
  say("find-window", v != 0);

  errors = 0;
  XImage *img = XGetImage(d, root, 0, 0, 16, 16, AllPlanes, ZPixmap);
  XSync(d, False);
  say("read-screen", img != NULL && errors == 0);
  if (img) XDestroyImage(img);

  if (v) {
    errors = 0;
    XImage *wi = XGetImage(d, v, 0, 0, 8, 8, AllPlanes, ZPixmap);
    XSync(d, False);
    say("read-window", wi != NULL && errors == 0);
    if (wi) XDestroyImage(wi);

    errors = 0;
    XKeyEvent k;
    memset(&k, 0, sizeof k);
    k.type = KeyPress; k.display = d; k.window = v; k.root = root; k.same_screen = True;
    k.keycode = XKeysymToKeycode(d, 'x');
    Status st = XSendEvent(d, v, True, KeyPressMask, (XEvent *)&k);
    XSync(d, False);
    say("send-key", st != 0 && errors == 0);

    errors = 0;
    XSetInputFocus(d, v, RevertToParent, CurrentTime);
    XSync(d, False);
    say("set-focus", errors == 0);
  } else {
    say("read-window", 0); say("send-key", 0); say("set-focus", 0);
  }

  errors = 0;
  int g = XGrabKeyboard(d, root, True, GrabModeAsync, GrabModeAsync, CurrentTime);
  XSync(d, False);
  say("grab-keyboard", g == GrabSuccess && errors == 0);
  XUngrabKeyboard(d, CurrentTime);

  int op, ev, er;
  say("xtest", XQueryExtension(d, "XTEST", &op, &ev, &er));
  say("record", XQueryExtension(d, "RECORD", &op, &ev, &er));
  say("xinput", XQueryExtension(d, "XInputExtension", &op, &ev, &er));
  XCloseDisplay(d);
  return 0;
}
