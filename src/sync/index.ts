// gevent.event / queue / lock / pool — filled in by the sync layer.
export {};
