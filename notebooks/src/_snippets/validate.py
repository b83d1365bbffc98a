import seghelpers as sh
import seghelpers.params

sh.i18n.set_language({{LANG}})  # the kit's own messages in this notebook's language

# fills None from the profile and checks every value; a bad one stops here, naming the fix
P = sh.params.resolve_namespace(globals(), framework=FRAMEWORK)
print(P.summary())  # P.table() lists every value
