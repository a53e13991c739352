# A minimal notification server for the notify profile's test: owns org.freedesktop.Notifications and, on the
# same connection, org.sandbox.Mailbox; prints its unique name, then one JSON line per call it receives.
import json, sys
import dbus, dbus.service, dbus.mainloop.glib
from gi.repository import GLib

dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.SessionBus()
IFACE = 'org.freedesktop.Notifications'
counter = [0]

def log(**kw):
    print(json.dumps(kw), flush=True)

class Server(dbus.service.Object):
    @dbus.service.method(IFACE, in_signature='susssasa{sv}i', out_signature='u')
    def Notify(self, app, replaces, icon, summary, body, actions, hints, timeout):
        counter[0] += 1
        log(call='Notify', app=str(app), summary=str(summary), body=str(body), id=counter[0])
        return counter[0]

    @dbus.service.method(IFACE, in_signature='', out_signature='ssss')
    def GetServerInformation(self):
        log(call='GetServerInformation')
        return ('sandbox-test', 'sandbox', '1', '1.2')

    @dbus.service.method(IFACE, in_signature='', out_signature='as')
    def GetCapabilities(self):
        log(call='GetCapabilities')
        return ['body']

    @dbus.service.method(IFACE, in_signature='u', out_signature='')
    def CloseNotification(self, nid):
        log(call='CloseNotification', id=int(nid))

class Mailbox(dbus.service.Object):
    @dbus.service.method('org.sandbox.Mailbox', in_signature='', out_signature='s')
    def ReadAll(self):
        log(call='ReadAll')
        return 'every-mail-42'

names = [dbus.service.BusName(IFACE, bus), dbus.service.BusName('org.sandbox.Mailbox', bus)]
Server(bus, '/org/freedesktop/Notifications')
Mailbox(bus, '/org/sandbox/Mailbox')
print(bus.get_unique_name(), flush=True)
GLib.MainLoop().run()
